import { Client, types } from 'pg';
// pg's own value serialisation (Dates, arrays, Buffers, objects as JSON), as its Query uses.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { prepareValue } = require('pg/lib/utils') as { prepareValue: (v: unknown) => unknown };

/**
 * Several statements in one round trip: a `pg` Submittable that writes, corked into one
 * socket write, Parse (only the first time a connection sees a statement: named, so it
 * stays prepared), Bind, Describe and Execute for each, and ONE Sync. Without an explicit
 * BEGIN the statements run as one implicit transaction that commits at the Sync; any error
 * rolls the whole batch back (PostgreSQL skips to the Sync).
 *
 * Statements are prepared by whoever runs first on the connection; the tenant settings
 * (role worklane_app first) come in the same batch, so plans are made as the application
 * role and keep row-level security.
 */
export interface Step {
  /** The prepared statement's name; the same name must always carry the same text. */
  name: string;
  text: string;
  values: unknown[];
}

type Row = Record<string, unknown>;
type Parser = (value: string) => unknown;

const prepared = new WeakMap<object, Set<string>>();

interface RowDescription {
  fields: Array<{ name: string; dataTypeID: number }>;
}

class Batch {
  readonly results: Row[][] = [];
  private current: Row[] = [];
  private names: string[] = [];
  private parsers: Parser[] = [];
  private error: Error | undefined;
  private parsedHere: string[] = [];
  callback?: (error: Error | undefined, results: Row[][]) => void;

  constructor(
    private readonly client: object,
    private readonly steps: Step[],
  ) {}

  submit(connection: {
    stream: { cork?: () => void; uncork?: () => void };
    parse: (q: { name: string; text: string; types: number[] }) => void;
    bind: (c: object) => void;
    describe: (m: object) => void;
    execute: (c: object) => void;
    sync: () => void;
  }): null {
    let known = prepared.get(this.client);
    if (!known) prepared.set(this.client, (known = new Set()));
    connection.stream.cork?.();
    try {
      for (const step of this.steps) {
        if (!known.has(step.name)) {
          connection.parse({ name: step.name, text: step.text, types: [] });
          known.add(step.name);
          this.parsedHere.push(step.name);
        }
        connection.bind({ portal: '', statement: step.name, values: step.values, valueMapper: prepareValue });
        connection.describe({ type: 'P', name: '' });
        connection.execute({ portal: '', rows: 0 });
      }
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    return null;
  }

  handleRowDescription(msg: RowDescription): void {
    this.names = msg.fields.map((f) => f.name);
    this.parsers = msg.fields.map((f) => types.getTypeParser(f.dataTypeID, 'text') as Parser);
  }

  handleDataRow(msg: { fields: Array<string | null> }): void {
    const row: Row = {};
    for (let i = 0; i < this.names.length; i++) {
      const raw = msg.fields[i];
      row[this.names[i]!] = raw === null || raw === undefined ? null : this.parsers[i]!(raw);
    }
    this.current.push(row);
  }

  handleCommandComplete(): void {
    this.results.push(this.current);
    this.current = [];
    this.names = [];
    this.parsers = [];
  }

  handleEmptyQuery(): void {
    this.handleCommandComplete();
  }

  handleError(error: Error): void {
    this.error ??= error;
    // A Parse that failed (or was skipped after an earlier error) prepared nothing.
    const known = prepared.get(this.client);
    for (const name of this.parsedHere) known?.delete(name);
  }

  handleReadyForQuery(): void {
    this.callback?.(this.error, this.results);
  }

  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
  handleCopyData(): void {}
}

/** Runs the steps in one round trip; answers each statement's rows, in order. */
export function pipeline(client: Client, steps: Step[]): Promise<Row[][]> {
  return new Promise((resolve, reject) => {
    const batch = new Batch(client, steps);
    batch.callback = (error, results) => (error ? reject(error) : resolve(results));
    void client.query(batch as never);
  });
}
