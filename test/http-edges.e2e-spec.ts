import http from 'node:http';
import net from 'node:net';
import { MAX_DISCARDED_BODY_BYTES } from '../src/shared/http/http-edges';
import { api, createTestApp, listenOnLoopback, TestApp } from './helpers/app';

const PROBLEM = /^application\/problem\+json/;

/** What a raw socket receives for `chunks`, written with a pause between them. */
function exchange(port: number, chunks: Array<string | Buffer>, pauseMs = 20): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    let settled = false;
    const finish = (how: string) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(`${received}\n[${how}]`);
    };
    socket.on('data', (data) => (received += data.toString('latin1')));
    socket.on('error', (error) => finish(`error ${error.message}`));
    socket.on('close', () => finish('closed'));
    let next = 0;
    const writeNext = () => {
      if (socket.destroyed) return;
      if (next < chunks.length) {
        socket.write(chunks[next++]!);
        setTimeout(writeNext, pauseMs);
      } else setTimeout(() => finish('open'), 300);
    };
    socket.on('connect', writeNext);
  });
}

/** The status lines of every response in a raw exchange, in order. */
const statusLines = (text: string) => text.match(/HTTP\/1\.1 \d{3}/g) ?? [];

describe('the HTTP edges: errors Fastify and Node answer, wrong methods, refused bodies', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await createTestApp();
    ({ port } = await listenOnLoopback(t));
  });
  afterAll(() => t.close());

  function expectEdgeProblem(
    res: { status: number; headers: Record<string, string>; body: unknown },
    status: number,
  ) {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.headers['x-request-id']).toBe('edge-test-1');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.body).toMatchObject({ type: 'about:blank', status, detail: expect.any(String) });
  }

  it('answers a path parameter over 100 characters with a 414 problem', async () => {
    const res = await t
      .http()
      .get(api(`/orgs/${'a'.repeat(101)}`))
      .set('x-request-id', 'edge-test-1');
    expectEdgeProblem(res, 414);
    expect(res.body.title).toBe('URI Too Long');
    expect(res.body.detail).toBe('A path segment is longer than 100 characters.');
  });

  it('answers a badly percent-encoded URL with a 400 problem', async () => {
    const res = await t.http().get(api('/orgs/%E0%A4%A')).set('x-request-id', 'edge-test-1');
    expectEdgeProblem(res, 400);
  });

  it.each([
    ['put', api('/orgs'), 'GET, HEAD, POST'],
    ['delete', api('/auth/login'), 'POST'],
    ['post', '/health', 'GET, HEAD'],
    ['put', api('/orgs/00000000-0000-4000-8000-000000000000/leave'), 'POST'],
  ] as const)('answers %s %s with 405 and Allow: %s', async (method, path, allow) => {
    const res = await t.http()[method](path).set('x-request-id', 'edge-test-1');
    expectEdgeProblem(res, 405);
    expect(res.headers['allow']).toBe(allow);
    expect(res.body.title).toBe('Method Not Allowed');
  });

  it('still answers 404 for a path no method serves', async () => {
    const res = await t.http().put(api('/no-such-thing'));
    expect(res.status).toBe(404);
    expect(res.headers['allow']).toBeUndefined();
    expect(res.headers['content-type']).toMatch(PROBLEM);
  });

  it('answers a request Node cannot parse with a 400 problem and closes', async () => {
    const text = await exchange(port, ['NONSENSE\r\n\r\n']);
    expect(statusLines(text)).toEqual(['HTTP/1.1 400']);
    expect(text).toMatch(/content-type: application\/problem\+json/i);
    expect(text).toMatch(/x-request-id: [0-9a-f-]{36}/i);
    expect(text).toMatch(/x-content-type-options: nosniff/i);
    expect(JSON.parse(text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1))).toMatchObject({
      status: 400,
      title: 'Bad Request',
    });
    expect(text).toMatch(/\[closed\]$/);
  });

  describe('a body over the 1 MiB limit', () => {
    const body = Buffer.alloc(1536 * 1024, 'a');
    const slices = (buffer: Buffer, size: number) =>
      Array.from({ length: Math.ceil(buffer.length / size) }, (_, i) =>
        buffer.subarray(i * size, (i + 1) * size),
      );
    const then = 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n';

    it('reaches a client still sending a declared body as 413, and the connection goes on', async () => {
      const head =
        `POST ${api('/auth/login')} HTTP/1.1\r\nHost: x\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
      const text = await exchange(port, [head, ...slices(body, 256 * 1024), then]);
      expect(statusLines(text)).toEqual(['HTTP/1.1 413', 'HTTP/1.1 200']);
      expect(text).toMatch(/content-type: application\/problem\+json/i);
      expect(text).toContain('"status":413');
    });

    it('reaches a client sending it chunked, and the connection goes on', async () => {
      const head =
        `POST ${api('/auth/login')} HTTP/1.1\r\nHost: x\r\n` +
        `Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;
      const chunks = slices(body, 256 * 1024).map((slice) =>
        Buffer.concat([
          Buffer.from(`${slice.length.toString(16)}\r\n`),
          slice,
          Buffer.from('\r\n'),
        ]),
      );
      const text = await exchange(port, [head, ...chunks, '0\r\n\r\n', then]);
      expect(statusLines(text)).toEqual(['HTTP/1.1 413', 'HTTP/1.1 200']);
    });

    it('reaches Node’s http.request writing slowly', async () => {
      const answer = await new Promise<{ status?: number; type?: string; body: string }>(
        (resolve, reject) => {
          const req = http.request(
            {
              host: '127.0.0.1',
              port,
              method: 'POST',
              path: api('/auth/login'),
              headers: { 'content-type': 'application/json', 'content-length': body.length },
            },
            (res) => {
              let text = '';
              res.on('data', (chunk) => (text += chunk));
              res.on('end', () =>
                resolve({ status: res.statusCode, type: res.headers['content-type'], body: text }),
              );
            },
          );
          req.on('error', reject);
          const parts = slices(body, 64 * 1024);
          const writeNext = () => {
            const part = parts.shift();
            if (!part) return req.end();
            req.write(part);
            setTimeout(writeNext, 5);
          };
          writeNext();
        },
      );
      expect(answer.status).toBe(413);
      expect(answer.type).toMatch(PROBLEM);
      expect(JSON.parse(answer.body)).toMatchObject({ status: 413, title: 'Payload Too Large' });
    });

    it('answers 413 and closes when the body announced is too large to read and discard', async () => {
      const head =
        `POST ${api('/auth/login')} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${MAX_DISCARDED_BODY_BYTES + 1}\r\n\r\n`;
      const text = await exchange(port, [head]);
      expect(statusLines(text)).toEqual(['HTTP/1.1 413']);
      expect(text).toMatch(/\[closed\]$/);
    });
  });
});
