import { request as httpRequest, IncomingMessage } from 'node:http';
import { connect, Socket } from 'node:net';
import { api, createTestApp, listenOnLoopback, TestApp } from './helpers/app';
import { createOrg, createOrgWorld, OrgWorld } from './helpers/orgs';
import { PROBLEM } from './helpers/problems';
import { CSV_COLUMNS, createProject, exportPath, orgTasksPath } from './helpers/work';

/**
 * Availability under hostile clients: exports that are never read (HEAD, abandoned,
 * stalled) give their connection back, exports cannot take the whole pool, and slow
 * requests are cut by the server's timeouts. Pool size 5 (test/setup-env.ts).
 */

const STALL_MS = 2000;
const REQUEST_TIMEOUT_MS = 1000;
const ROWS = 40_000; // ~14 MB of CSV: more than the socket buffers hold

let t: TestApp;
let w: OrgWorld;
let port: number;

beforeAll(async () => {
  t = await createTestApp({
    env: {
      EXPORT_STALL_TIMEOUT_MS: String(STALL_MS),
      EXPORT_MAX_CONCURRENT: '3',
      EXPORT_MAX_CONCURRENT_PER_ORG: '2',
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      HTTP_HEADERS_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      HTTP_CONNECTION_TIMEOUT_MS: '10000',
    },
  });
  ({ port } = await listenOnLoopback(t));
  w = await createOrgWorld(t);
  // Both orgs get exports too large for the socket buffers, so a paused reader holds one.
  for (const [orgId, owner] of [
    [w.orgId, w.owner],
    [w.otherOrgId, w.stranger],
  ] as const) {
    const projectId = await createProject(t, orgId, owner);
    await t.dataSource.query(
      `INSERT INTO tasks (org_id, project_id, title, status, priority, created_by)
       SELECT $1, $2, 'task ' || i || ' ' || repeat('x', 180), 'todo', 'medium', $3
         FROM generate_series(1, $4::int) AS i`,
      [orgId, projectId, owner.id, ROWS],
    );
  }
}, 120_000);
afterAll(() => t.close());

/** Sends a GET and destroys the socket before reading a byte of the answer. */
function abandon(path: string, auth: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${auth}\r\n\r\n`,
        () => {
          socket.destroy();
          resolve();
        },
      );
    });
    socket.on('error', () => resolve());
  });
}

/** Starts a download and never reads past the headers: the slow reader. */
function stall(
  path: string,
  auth: string,
): Promise<{ res: IncomingMessage; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { authorization: auth } });
    req.on('response', (res) => {
      res.pause();
      const closed = new Promise<number>((done) =>
        res.on('close', () => done(Date.now() - started)),
      );
      resolve({ res, closed });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sessions of this run's database left idle in a transaction for over a second. */
async function idleInTransaction(): Promise<number> {
  const [{ n }] = await t.dataSource.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND state = 'idle in transaction'
        AND state_change < now() - interval '1 second'`,
  );
  return n;
}

async function eventually(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('CSV export and the connection pool', () => {
  it('gives the connection back after HEAD requests and abandoned downloads', async () => {
    const path = exportPath(w.orgId);
    const heads = Array.from({ length: 15 }, () =>
      t.http().head(path).set(w.owner.auth).timeout(10_000),
    );
    const heads200 = (await Promise.all(heads)).filter((r) => r.status === 200);
    expect(heads200.length).toBeGreaterThan(0);
    for (let i = 0; i < 15; i++) await abandon(path, w.owner.auth.Authorization);

    const started = Date.now();
    const other = await t.http().get(orgTasksPath(w.otherOrgId)).set(w.stranger.auth).timeout(3000);
    expect(other.status).toBe(200);
    const ready = await t.http().get('/health/ready').timeout(3000);
    expect(ready.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(2000);

    // The pool is whole again: five parallel requests (the pool size) all answer.
    const five = await Promise.all(
      Array.from({ length: 5 }, () =>
        t.http().get(orgTasksPath(w.otherOrgId)).set(w.stranger.auth).timeout(3000),
      ),
    );
    expect(five.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    if (process.env.DATABASE_URL) {
      expect(await eventually(async () => (await idleInTransaction()) === 0, 5000)).toBe(true);
    }
  }, 60_000);

  it('answers HEAD with the export headers and no body', async () => {
    const res = await t.http().head(exportPath(w.orgId)).set(w.owner.auth);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/csv/);
    expect(res.text ?? '').toBe('');
  });

  // Concurrent exports need a server: the embedded database runs one transaction at a
  // time, so there a held export queues every other request behind it.
  const onServer = process.env.WORKLANE_TEST_SERVER_URL ? it : it.skip;

  onServer(
    'caps concurrent exports per org (429) and per instance (503), with Retry-After',
    async () => {
      const auth = w.owner.auth.Authorization;
      const a1 = await stall(exportPath(w.orgId), auth);
      const a2 = await stall(exportPath(w.orgId), auth);
      const perOrg = await t.http().get(exportPath(w.orgId)).set(w.owner.auth);
      expect(perOrg.status).toBe(429);
      expect(perOrg.headers['content-type']).toMatch(PROBLEM);
      expect(Number(perOrg.headers['retry-after'])).toBeGreaterThan(0);

      const b1 = await stall(exportPath(w.otherOrgId), w.stranger.auth.Authorization);
      const thirdOrg = await createOrg(t, w.stranger, 'Third Co');
      const instance = await t.http().get(exportPath(thirdOrg)).set(w.stranger.auth);
      expect(instance.status).toBe(503);
      expect(instance.headers['content-type']).toMatch(PROBLEM);
      expect(Number(instance.headers['retry-after'])).toBeGreaterThan(0);

      // Meanwhile the rest of the API still has connections.
      const other = await t
        .http()
        .get(orgTasksPath(w.otherOrgId))
        .set(w.stranger.auth)
        .timeout(3000);
      expect(other.status).toBe(200);

      // Stalled readers lose their slot (and connection) within the stall bound, whether
      // the server cut them or the socket buffers happened to take the whole file.
      const since = Date.now();
      expect(
        await eventually(async () => {
          const res = await t.http().get(exportPath(thirdOrg)).set(w.stranger.auth);
          return res.status === 200;
        }, STALL_MS + 3000),
      ).toBe(true);
      expect(Date.now() - since).toBeLessThan(STALL_MS + 3000);
      for (const held of [a1, a2, b1]) held.res.destroy();
      if (process.env.DATABASE_URL) {
        expect(await eventually(async () => (await idleInTransaction()) === 0, 5000)).toBe(true);
      }
    },
    60_000,
  );

  it('still streams a complete CSV, also to a reader slower than the request timeout', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port,
        path: exportPath(w.orgId),
        headers: { authorization: w.owner.auth.Authorization },
      });
      req.on('response', (res) => {
        expect(res.statusCode).toBe(200);
        res.pause();
        setTimeout(() => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          res.on('error', reject);
          res.resume();
        }, REQUEST_TIMEOUT_MS + 500);
      });
      req.on('error', reject);
      req.end();
    });
    const lines = body.trimEnd().split(/\r?\n/);
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(ROWS + 1);
  }, 60_000);
});

describe('server timeouts', () => {
  /** Opens a raw socket; resolves with what the server wrote and when it closed. */
  function trickle(head: string, dribble: string): Promise<{ data: string; ms: number }> {
    return new Promise((resolve) => {
      const started = Date.now();
      let data = '';
      const socket: Socket = connect(port, '127.0.0.1', () => socket.write(head));
      let i = 0;
      const timer = setInterval(() => {
        if (!socket.writable) return;
        socket.write(dribble[i % dribble.length]!);
        i += 1;
      }, 200);
      socket.on('data', (chunk) => (data += chunk.toString('utf8')));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearInterval(timer);
        resolve({ data, ms: Date.now() - started });
      });
    });
  }

  it('cuts a client trickling its body within the request timeout', async () => {
    const sockets = await Promise.all(
      Array.from({ length: 5 }, () =>
        trickle(
          `POST ${api('/auth/login')} HTTP/1.1\r\nHost: localhost\r\n` +
            `Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n`,
          '{"a":1}',
        ),
      ),
    );
    for (const { data, ms } of sockets) {
      expect(ms).toBeLessThan(REQUEST_TIMEOUT_MS * 4);
      if (data) expect(data).toMatch(/^HTTP\/1\.1 408/);
    }
  }, 20_000);

  it('cuts a client trickling its headers within the headers timeout', async () => {
    const { data, ms } = await trickle(`GET /health HTTP/1.1\r\n`, 'X-Slow: a\r\n');
    expect(ms).toBeLessThan(REQUEST_TIMEOUT_MS * 4);
    if (data) expect(data).toMatch(/^HTTP\/1\.1 408/);
  }, 20_000);
});
