import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedDemo } from '../src/cli/seed';
import { createTestApp, listenOnLoopback, TestApp } from './helpers/app';

/** The README's quickstart commands: the fenced bash blocks of that section that call the API. */
function quickstartBlocks(): string[] {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const start = readme.indexOf('## Quickstart');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end);
  return [...section.matchAll(/```bash\n([\s\S]*?)```/g)]
    .map((match) => match[1]!)
    .filter((block) => block.includes('$API') || block.includes('API='));
}

describe('the README quickstart, command by command', () => {
  let t: TestApp;
  let base: string;
  let cwd: string;

  beforeAll(async () => {
    t = await createTestApp();
    ({ base } = await listenOnLoopback(t));
    await seedDemo(base);
    cwd = mkdtempSync(join(tmpdir(), 'worklane-readme-'));
  });
  afterAll(async () => {
    rmSync(cwd, { recursive: true, force: true });
    await t.close();
  });

  it('has the walkthrough blocks', () => {
    expect(quickstartBlocks().length).toBeGreaterThanOrEqual(4);
  });

  it('runs every block against the API, in order, each command succeeding', async () => {
    const script = quickstartBlocks()
      .map((block, i) => `echo "::block ${i}"\n${block}`)
      .join('\n')
      .replaceAll('http://127.0.0.1:3000', base);
    // Asynchronously: the API answering the commands runs in this process.
    const run = await new Promise<{ status: number; stdout: string; stderr: string }>((done) => {
      execFile(
        'bash',
        ['--noprofile', '--norc', '-euo', 'pipefail', '-c', script],
        { cwd, timeout: 60_000 },
        (error, stdout, stderr) =>
          done({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    // What a reader is told to expect is what they see.
    expect(run.stdout).toContain('"name":"Acme Robotics (demo)"');
    expect(run.stdout).toMatch(/"status":"in_progress"/);
    expect(run.stdout).toMatch(/"byStatus"/);
    expect(run.stdout).toContain('id,projectId,title,status'); // the CSV's header row
  });
});
