import type { FastifyAdapter } from '@nestjs/platform-fastify';
import { DomainError } from './domain-error';

/** How deep a JSON body may nest (the body itself is level 1). No DTO needs more. */
export const MAX_JSON_DEPTH = 32;

export class JsonTooDeep extends DomainError {
  constructor() {
    super(
      'json_too_deep',
      'bad_request',
      `JSON bodies may nest at most ${MAX_JSON_DEPTH} levels.`,
      [{ field: 'body', message: `must not nest deeper than ${MAX_JSON_DEPTH} levels` }],
    );
  }
}

/** The deepest nesting of arrays and objects in JSON text, brackets in strings aside; one pass. */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * application/json parsed as Fastify does by default (secure-json-parse, with the same
 * `__proto__`/`constructor.prototype` poisoning protection), after a depth check: a body
 * nested deeper than MAX_JSON_DEPTH is a 400 before any hook, interceptor or pipe sees it.
 * Nest's body parsers are registered first (it skips them at init once done), then its
 * application/json parser is swapped for this one. `prefix`: the app's global prefix.
 */
export function registerJsonParser(adapter: FastifyAdapter, prefix: string): void {
  adapter.registerParserMiddleware(prefix);
  const fastify = adapter.getInstance();
  const defaultParser = fastify.getDefaultJsonParser(
    fastify.initialConfig.onProtoPoisoning ?? 'error',
    fastify.initialConfig.onConstructorPoisoning ?? 'error',
  );
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (jsonDepthExceeds(body as string, MAX_JSON_DEPTH)) {
      done(new JsonTooDeep(), undefined);
      return;
    }
    defaultParser(request, body as string, done);
  });
}
