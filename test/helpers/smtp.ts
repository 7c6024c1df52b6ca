import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** One message as the capture received it over SMTP. */
export interface CapturedMail {
  /** MAIL FROM of the envelope (null for the null sender). */
  from: string | null;
  /** RCPT TO addresses of the envelope, lower-cased. */
  to: string[];
  /** The message source exactly as received. */
  raw: string;
  /** The `Subject:` header, unfolded and with RFC 2047 encoded words decoded. */
  subject: string;
  /**
   * The source with quoted-printable soft line breaks (`=\r\n`) removed and `=3D` turned
   * back into `=`, plus the decoded text of any base64 part: what a link in the body says.
   */
  text: string;
}

export interface SmtpCapture {
  /** `smtp://127.0.0.1:<port>`, for SMTP_URL. */
  url: string;
  /** Every message received so far, in order of arrival. */
  messages: CapturedMail[];
  /** The first message (already received or still to come) that satisfies `predicate`. */
  waitFor(predicate: (mail: CapturedMail) => boolean, timeoutMs?: number): Promise<CapturedMail>;
  /**
   * How the server treats the next messages: `refuse` answers 451 (a temporary failure)
   * to that many messages (Infinity: all, until changed); `delayMs` holds each message
   * that long before accepting it.
   */
  behave(options: { refuse?: number; delayMs?: number }): void;
  /** Messages refused so far (each one a delivery attempt that failed). */
  refused: string[];
  close(): Promise<void>;
}

/**
 * The token of a mailed link: `token=<43 url-safe base64 characters>`, after the id of
 * the org it belongs to for invites (`<orgId>.<secret>`).
 */
const TOKEN = /token=((?:[0-9a-f-]{36}\.)?[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/;

/** The invite token of the accept link in `mail`; throws when the mail has none. */
export function tokenFrom(mail: CapturedMail): string {
  const match = TOKEN.exec(mail.text);
  if (!match) throw new Error(`no token=… in the mail to ${mail.to.join(', ')}:\n${mail.text}`);
  return match[1]!;
}

/** The first URL of the mail that carries a `token=` parameter (the accept link). */
export function acceptLinkFrom(mail: CapturedMail): string {
  const match =
    /https?:\/\/[^\s"'<>]*[?&]token=(?:[0-9a-f-]{36}\.)?[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/.exec(
      mail.text,
    );
  if (!match) throw new Error(`no accept link in the mail to ${mail.to.join(', ')}:\n${mail.text}`);
  return match[0];
}

function decodeQuotedPrintableLinks(source: string): string {
  return source.replace(/=\r?\n/g, '').replace(/=3D/gi, '=');
}

function decodeEncodedWords(value: string): string {
  return value.replace(
    /=\?([^?]+)\?([bBqQ])\?([^?]*)\?=\s*/g,
    (_all, _charset: string, encoding: string, text: string) => {
      if (encoding.toUpperCase() === 'B') return Buffer.from(text, 'base64').toString('utf8');
      const bytes = text
        .replace(/_/g, ' ')
        .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
      return Buffer.from(bytes, 'latin1').toString('utf8');
    },
  );
}

function headerOf(source: string, name: string): string {
  const headerEnd = source.search(/\r?\n\r?\n/);
  const head = (headerEnd === -1 ? source : source.slice(0, headerEnd)).replace(
    /\r?\n[ \t]+/g,
    ' ',
  );
  const line = head
    .split(/\r?\n/)
    .find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line ? decodeEncodedWords(line.slice(name.length + 1).trim()) : '';
}

/** The decoded text of base64 parts (nodemailer picks base64 for some bodies). */
function base64Parts(source: string): string[] {
  const parts: string[] = [];
  const pattern =
    /Content-Transfer-Encoding:\s*base64[^\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\n((?:[A-Za-z0-9+/=]+\r?\n?)+)/gi;
  for (const match of source.matchAll(pattern)) {
    parts.push(Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64').toString('utf8'));
  }
  return parts;
}

function parse(raw: string, from: string | null, to: string[]): CapturedMail {
  return {
    from,
    to,
    raw,
    subject: headerOf(raw, 'Subject'),
    text: [decodeQuotedPrintableLinks(raw), ...base64Parts(raw)].join('\n'),
  };
}

/**
 * An SMTP server inside the test process, on 127.0.0.1 and a free port, that accepts
 * every message (no auth, no TLS) and keeps it for the test to read.
 */
export async function startSmtpCapture(): Promise<SmtpCapture> {
  const messages: CapturedMail[] = [];
  const waiters = new Set<{
    predicate: (mail: CapturedMail) => boolean;
    resolve: (mail: CapturedMail) => void;
  }>();

  const refused: string[] = [];
  let refuseLeft = 0;
  let delayMs = 0;

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 200,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        const envelope = session.envelope;
        if (refuseLeft > 0) {
          refuseLeft--;
          refused.push(envelope.rcptTo.map((r) => r.address.toLowerCase()).join(','));
          const error = Object.assign(new Error('Try again later (the test refuses)'), {
            responseCode: 451,
          });
          callback(error);
          return;
        }
        // A slow server takes the message only at the end of its delay.
        const take = () => {
          const mail = parse(
            Buffer.concat(chunks).toString('utf8'),
            envelope.mailFrom ? envelope.mailFrom.address : null,
            envelope.rcptTo.map((r) => r.address.toLowerCase()),
          );
          messages.push(mail);
          for (const waiter of [...waiters]) {
            if (waiter.predicate(mail)) {
              waiters.delete(waiter);
              waiter.resolve(mail);
            }
          }
          callback();
        };
        if (delayMs > 0) setTimeout(take, delayMs);
        else take();
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // A client that drops the connection must not crash the test process.
  server.on('error', () => undefined);
  const { port } = server.server.address() as AddressInfo;

  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    waitFor(predicate, timeoutMs = 5_000) {
      const already = messages.find(predicate);
      if (already) return Promise.resolve(already);
      return new Promise<CapturedMail>((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (mail: CapturedMail) => {
            clearTimeout(timer);
            resolve(mail);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          const seen = messages.map((m) => `${m.to.join(',')}: ${m.subject}`).join('\n  ');
          reject(
            new Error(`no matching mail within ${timeoutMs} ms; received:\n  ${seen || '(none)'}`),
          );
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    behave(options) {
      if (options.refuse !== undefined) refuseLeft = options.refuse;
      if (options.delayMs !== undefined) delayMs = options.delayMs;
    },
    refused,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
