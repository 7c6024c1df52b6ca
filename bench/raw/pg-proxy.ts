import { createConnection, createServer, Server, Socket } from 'node:net';

/**
 * A TCP proxy in front of PostgreSQL that counts round trips: the client messages after
 * which a client waits for the server — Query ('Q', simple protocol) and Sync ('S',
 * extended protocol). A pipelined batch of many statements with one Sync counts one.
 */
export class PgProxy {
  count = 0;
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  async listen(): Promise<number> {
    this.server = createServer((client) => {
      const upstream = createConnection({ host: this.host, port: this.port });
      this.sockets.add(client).add(upstream);
      client.setNoDelay(true);
      upstream.setNoDelay(true);
      let buffer: Buffer = Buffer.alloc(0);
      let started = false; // the startup packet (and an SSLRequest) has no type byte
      client.on('data', (chunk: Buffer) => {
        upstream.write(chunk);
        buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
        for (;;) {
          if (!started) {
            if (buffer.length < 8) break;
            const len = buffer.readInt32BE(0);
            if (buffer.length < len) break;
            const code = buffer.readInt32BE(4);
            buffer = buffer.subarray(len);
            if (code !== 80877103 && code !== 80877104) started = true; // not SSL/GSS requests
            continue;
          }
          if (buffer.length < 5) break;
          const len = buffer.readInt32BE(1);
          if (buffer.length < len + 1) break;
          const type = buffer[0];
          if (type === 0x51 /* Q */ || type === 0x53 /* S */) this.count++;
          buffer = buffer.subarray(len + 1);
        }
      });
      upstream.on('data', (chunk) => client.write(chunk));
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('close', close).on('error', close);
      upstream.on('close', close).on('error', close);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server!.address() as { port: number }).port;
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.server?.close();
  }
}
