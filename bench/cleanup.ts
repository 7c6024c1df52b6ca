/**
 * One stack of cleanup steps, run in reverse order exactly once: from the `finally` of the
 * run, or on SIGINT / SIGTERM (then the process exits with 130 / 143).
 */
type Step = { label: string; run: () => Promise<void> | void };

const steps: Step[] = [];
let running: Promise<void> | undefined;

export function onCleanup(label: string, run: Step['run']): void {
  steps.push({ label, run });
}

export function cleanup(): Promise<void> {
  return (running ??= (async () => {
    while (steps.length > 0) {
      const step = steps.pop()!;
      try {
        await step.run();
      } catch (error) {
        console.error(`[bench] cleanup "${step.label}" failed: ${String(error)}`);
      }
    }
  })());
}

let interrupted = false;
/** True once SIGINT / SIGTERM arrived: long loops check it to stop early. */
export const isInterrupted = () => interrupted;

export function installSignalHandlers(): void {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(signal, () => {
      if (interrupted) return; // a second Ctrl-C while cleaning up: keep cleaning up
      interrupted = true;
      console.error(`\n[bench] ${signal}: stopping the API and cleaning up…`);
      // Cleanup is bounded (each step has its own timeout); a hard stop after 20 s anyway.
      setTimeout(() => process.exit(code), 20_000).unref();
      void cleanup().finally(() => process.exit(code));
    });
  }
}
