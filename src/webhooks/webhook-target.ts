import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { InvalidField } from '../shared/http/domain-error';

/**
 * Where a webhook may send, and the sending itself (SSRF rules, DESIGN §5):
 *
 * - Always: `http:` or `https:` only, no credentials in the URL, and never the cloud
 *   metadata addresses, the unspecified address, multicast or broadcast.
 * - In production (`NODE_ENV=production`) the target must be a public unicast address:
 *   loopback, private (RFC 1918), link-local, unique-local, CGNAT, reserved and the IPv6
 *   transition ranges that embed an IPv4 address (6to4, Teredo, NAT64, mapped) are refused
 *   — at creation and update (400), and again at every attempt after DNS resolution. The
 *   connection goes to the address that was checked (a custom `lookup`), so a DNS answer
 *   that changes between the check and the connect (rebinding) cannot redirect it.
 * - Outside production loopback and private ranges are allowed, so that a receiver on the
 *   developer's machine or network works.
 */

export const USER_AGENT = 'Worklane-Webhooks/1.0 (+https://worklane.dev/docs/webhooks)';
/** What an attempt keeps of the receiver's answer, at most. */
export const SNIPPET_BYTES = 1024;

const METADATA = new Set(['169.254.169.254', 'fd00:ec2::254']);

/** Why `address` may not be a target, or null. */
export function addressRefusal(address: string, production: boolean): string | null {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address);
  } catch {
    return `${address} is not an IP address`;
  }
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) {
    ip = (ip as ipaddr.IPv6).toIPv4Address();
  }
  const normal = ip.toNormalizedString();
  const canonical = ip.kind() === 'ipv6' ? ipaddr.IPv6.parse(normal).toString() : normal;
  if (METADATA.has(canonical)) return `${address} is a cloud metadata address`;
  const range = ip.range();
  if (['unspecified', 'multicast', 'broadcast'].includes(range))
    return `${address} is a ${range} address`;
  if (production && range !== 'unicast') return `${address} is a ${range} address`;
  return null;
}

/** The URL's host without IPv6 brackets. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * The URL as a webhook target, or a 400 naming `url`. The shape only: addresses are
 * checked by `assertTargetAllowed`.
 */
export function parseTargetUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidField('url', 'must be an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidField('url', 'must use http or https');
  if (url.username || url.password)
    throw new InvalidField('url', 'must not contain credentials (user:password@)');
  if (!url.hostname) throw new InvalidField('url', 'must name a host');
  if (url.hash) throw new InvalidField('url', 'must not have a fragment');
  return url;
}

function resolveAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );
}

/**
 * The URL is a target this deployment may send to, or a 400 naming `url`. A host that
 * resolves to any refused address is refused; one that does not resolve (yet) is taken,
 * since every attempt checks again.
 */
export async function assertTargetAllowed(raw: string, production: boolean): Promise<URL> {
  const url = parseTargetUrl(raw);
  const host = hostOf(url);
  if (ipaddr.isValid(host)) {
    const refusal = addressRefusal(host, production);
    if (refusal) throw new InvalidField('url', `refused target: ${refusal}`);
    return url;
  }
  if (production && (host === 'localhost' || host.endsWith('.localhost')))
    throw new InvalidField('url', 'refused target: localhost');
  let addresses: LookupAddress[] = [];
  try {
    addresses = await resolveAll(host);
  } catch {
    return url;
  }
  for (const { address } of addresses) {
    const refusal = addressRefusal(address, production);
    if (refusal) throw new InvalidField('url', `refused target: ${host} resolves to ${refusal}`);
  }
  return url;
}

/**
 * A `lookup` for the socket that resolves, refuses the whole answer if any address is
 * refused, and hands the socket only checked addresses.
 */
function guardedLookup(production: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { all: true, verbatim: true, family: options.family }, (error, found) => {
      if (error) return callback(error, '', 0);
      const refusal = found.map((a) => addressRefusal(a.address, production)).find(Boolean);
      if (refusal || found.length === 0) {
        const refused = new Error(
          `refused target: ${hostname} resolves to ${refusal ?? 'nothing'}`,
        );
        (refused as NodeJS.ErrnoException).code = 'EREFUSEDTARGET';
        return callback(refused, '', 0);
      }
      if ((options as { all?: boolean }).all) {
        (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, found);
      } else {
        callback(null, found[0]!.address, found[0]!.family);
      }
    });
  };
}

export interface AttemptOutcome {
  /** The receiver's status, or null when none came (refused, unreachable, timed out). */
  httpStatus: number | null;
  latencyMs: number;
  /** Null on success; else why, with at most SNIPPET_BYTES of the answer's body. */
  error: string | null;
}

const clip = (text: string) => {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= SNIPPET_BYTES
    ? text
    : bytes
        .subarray(0, SNIPPET_BYTES)
        .toString('utf8')
        .replace(/\uFFFD+$/, '');
};

/**
 * POSTs `body` once: no redirect followed (a 3xx is a failure), the whole exchange bounded
 * by `timeoutMs`, at most SNIPPET_BYTES of the answer kept. Never throws.
 */
export function postOnce(
  rawUrl: string,
  headers: Record<string, string>,
  body: string,
  options: { timeoutMs: number; production: boolean },
): Promise<AttemptOutcome> {
  const started = performance.now();
  const outcome = (httpStatus: number | null, error: string | null): AttemptOutcome => ({
    httpStatus,
    latencyMs: Math.round(performance.now() - started),
    error: error === null ? null : clip(error),
  });
  let url: URL;
  try {
    url = parseTargetUrl(rawUrl);
  } catch {
    return Promise.resolve(outcome(null, 'the URL is no longer a valid target'));
  }
  const host = hostOf(url);
  // A literal address is checked here (no lookup happens); a name, by the socket's lookup.
  if (ipaddr.isValid(host)) {
    const refusal = addressRefusal(host, options.production);
    if (refusal) return Promise.resolve(outcome(null, `refused target: ${refusal}`));
  }

  return new Promise<AttemptOutcome>((resolve) => {
    let settled = false;
    const finish = (result: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve(result);
    };
    const send = url.protocol === 'https:' ? https.request : http.request;
    const payload = Buffer.from(body, 'utf8');
    const request = send(url, {
      method: 'POST',
      agent: false,
      lookup: guardedLookup(options.production),
      headers: {
        ...headers,
        'content-type': 'application/json',
        'content-length': String(payload.length),
        'user-agent': USER_AGENT,
      },
    });
    const timer = setTimeout(
      () => finish(outcome(null, `timed out after ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    request.on('error', (error: NodeJS.ErrnoException) =>
      finish(outcome(null, error.message || error.code || 'connection failed')),
    );
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      // A 2xx is the whole answer we need: its body is neither read nor kept.
      if (status >= 200 && status < 300) return finish(outcome(status, null));
      const chunks: Buffer[] = [];
      let kept = 0;
      const done = () => {
        const snippet = Buffer.concat(chunks).toString('utf8');
        if (status >= 300 && status < 400) {
          const where = response.headers.location ? ` to ${response.headers.location}` : '';
          return finish(outcome(status, `HTTP ${status}: redirect${where} not followed`));
        }
        finish(outcome(status, `HTTP ${status}${snippet ? `: ${snippet}` : ''}`));
      };
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk.subarray(0, SNIPPET_BYTES - kept));
        kept += Math.min(chunk.length, SNIPPET_BYTES - kept);
        if (kept >= SNIPPET_BYTES) done(); // the rest is not read
      });
      response.on('end', done);
      response.on('error', done);
    });
    request.end(payload);
  });
}
