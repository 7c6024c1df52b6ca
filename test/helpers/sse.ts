import { request as httpRequest, IncomingMessage } from 'node:http';

export interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
  /** `data` parsed as JSON, when it is. */
  json?: any;
}

export interface SseStream {
  status: number;
  headers: IncomingMessage['headers'];
  /** Every message so far, in order (comments apart). */
  messages: SseMessage[];
  /** Comment lines so far (`: heartbeat`). */
  comments: string[];
  /** The body of a non-200 answer. */
  body?: string;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  isEnded(): boolean;
  /** Waits (bounded) until `n` messages have arrived, or until `ok` holds. */
  waitFor(ok: (s: SseStream) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
}

/**
 * A minimal EventSource over node:http: one connection, the text/event-stream framing
 * (id, event, data, comments), no automatic reconnect — a test reconnects by hand, with
 * Last-Event-ID, as a browser would.
 */
export function openStream(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { accept: 'text/event-stream', ...headers } });
    req.on('error', reject);
    req.on('response', (res) => {
      let ended = false;
      let endedNow: () => void = () => undefined;
      const stream: SseStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        messages: [],
        comments: [],
        ended: new Promise<void>((done) => (endedNow = done)),
        isEnded: () => ended,
        async waitFor(ok, timeoutMs = 10_000) {
          const deadline = Date.now() + timeoutMs;
          while (!ok(stream)) {
            if (Date.now() > deadline) {
              throw new Error(
                `stream: condition not met in ${timeoutMs} ms; got ${JSON.stringify(stream.messages.map((m) => `${m.id}:${m.event}`))}`,
              );
            }
            await new Promise((r) => setTimeout(r, 20));
          }
        },
        close: () => {
          req.destroy();
          res.destroy();
        },
      };
      const finish = () => {
        if (ended) return;
        ended = true;
        endedNow();
      };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
      res.setEncoding('utf8');
      if (stream.status !== 200) {
        let body = '';
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          stream.body = body;
          resolve(stream);
        });
        return;
      }
      let buffer = '';
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const message: SseMessage = {};
          let isMessage = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) stream.comments.push(line.slice(1).trim());
            else {
              const at = line.indexOf(':');
              const field = at < 0 ? line : line.slice(0, at);
              const value = at < 0 ? '' : line.slice(at + 1).replace(/^ /, '');
              if (field === 'id' || field === 'event') {
                message[field] = value;
                isMessage = true;
              }
              if (field === 'data') {
                message.data = message.data === undefined ? value : `${message.data}\n${value}`;
                isMessage = true;
              }
            }
          }
          if (isMessage && message.data !== undefined) {
            try {
              message.json = JSON.parse(message.data);
            } catch {
              /* not JSON */
            }
            stream.messages.push(message);
          }
        }
      });
      resolve(stream);
    });
    req.end();
  });
}
