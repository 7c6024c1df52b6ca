import type { AddressInfo } from 'node:net';
import { ModuleMetadata } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import request from 'supertest';
import { DataSource } from 'typeorm';

/** A path of the versioned API: `api('/orgs')` → `/api/v1/orgs`. */
export const api = (path: string): string => `/api/v1${path}`;

/**
 * Serves the app on a free loopback port too (for clients other than supertest: raw
 * sockets, fetch, curl) and answers the port and the base URL.
 */
export async function listenOnLoopback(t: TestApp): Promise<{ port: number; base: string }> {
  await t.app.listen(0, '127.0.0.1');
  const { port } = t.app.getHttpServer().address() as AddressInfo;
  return { port, base: `http://127.0.0.1:${port}` };
}

export interface TestApp {
  app: NestFastifyApplication;
  http: () => ReturnType<typeof request>;
  dataSource: DataSource;
  close: () => Promise<void>;
}

/**
 * The real application — same module, same bootstrap as main.ts — on the run's database,
 * served to supertest over real HTTP. `env` overrides settings for this test file (they
 * are read when the app module is first loaded, so pass them on the file's first call).
 *
 * Every answer `http()` receives is checked against the app's own `/docs-json` (see
 * OpenApiContract): a drift between what runs and what the document says fails the test
 * that met it.
 */
export async function createTestApp(
  options: { env?: Record<string, string>; extra?: ModuleMetadata } = {},
): Promise<TestApp> {
  Object.assign(process.env, options.env ?? {});
  // Loaded here, not at the top, so that `env` is in place when the config module reads it.
  const { AppModule } = await import('../../src/app.module');
  const { configureApp, createAdapter } = await import('../../src/bootstrap');

  const moduleRef = await Test.createTestingModule({
    imports: [AppModule, ...(options.extra?.imports ?? [])],
    controllers: options.extra?.controllers ?? [],
    providers: options.extra?.providers ?? [],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createAdapter(), {
    logger: false,
  });
  await configureApp(app);
  await app.init();
  const fastify = app.getHttpAdapter().getInstance();
  await fastify.ready();

  const document = (await fastify.inject({ method: 'GET', url: '/docs-json' })).json();
  const contract = new OpenApiContract(document);
  return {
    app,
    http: () => contract.checking(request(app.getHttpServer())),
    dataSource: app.get(DataSource),
    close: () => app.close(),
  };
}

/**
 * The body as sent: supertest's text, or, where a test gave its own parser, the string or
 * buffer that parser made. Undefined when there was none (or the parser made an object).
 */
function bodyText(answer: Answer): string | undefined {
  if (typeof answer.text === 'string' && answer.text.length > 0) return answer.text;
  if (typeof answer.body === 'string') return answer.body || undefined;
  if (Buffer.isBuffer(answer.body)) return answer.body.toString('utf8') || undefined;
  return undefined;
}

// ---- the contract hook -------------------------------------------------------------------

type Json = Record<string, any>;
type Agent = ReturnType<typeof request>;
type Answer = request.Response;

const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'] as const;
const PROBLEM_MEDIA = 'application/problem+json';
/** Swagger UI and the document itself: served beside the API, not described by it. */
const NOT_IN_DOCUMENT = /^\/docs(-json|\/.*)?$/;

interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  params: number;
  responses: Json;
}

export class ContractViolation extends Error {
  override name = 'ContractViolation';
}

/**
 * The OpenAPI document as an executable contract: for each answer, the operation of its
 * method and path must exist, and must document the status, the content type, the
 * headers it marks required (and their values) and the body's schema. An answer from a
 * path with no operation (unknown route, wrong method, a URL the router refused) must be
 * a problem document. Schemas are checked by Ajv with ajv-formats (uuid, date, date-time,
 * email); `nullable` is Ajv's OpenAPI keyword.
 */
export class OpenApiContract {
  private readonly ajv: Ajv;
  private readonly operations: Operation[] = [];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly document: Json) {
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ components: document.components }, 'openapi');
    for (const [template, item] of Object.entries(document.paths as Json)) {
      const source = template
        .split(/(\{\w+\})/)
        .map((part) =>
          /^\{\w+\}$/.test(part) ? '([^/]+)' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'),
        )
        .join('');
      for (const method of METHODS) {
        if (!item[method]) continue;
        this.operations.push({
          method,
          template,
          pattern: new RegExp(`^${source}$`),
          params: (template.match(/\{/g) ?? []).length,
          responses: item[method].responses,
        });
      }
    }
    // A literal segment wins over a parameter, as in the router.
    this.operations.sort((a, b) => a.params - b.params);
  }

  /** The agent with every request it makes checked once its answer arrives. */
  checking(agent: Agent): Agent {
    return new Proxy(agent, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver);
        if (typeof property !== 'string' || !(METHODS as readonly string[]).includes(property)) {
          return value;
        }
        return (url: string, ...rest: unknown[]) => {
          const test = (value as (...args: unknown[]) => request.Test).call(target, url, ...rest);
          const then = test.then.bind(test);
          test.then = ((onFulfilled, onRejected) =>
            then((answer: Answer) => {
              this.check(property.toUpperCase(), url, answer);
              return answer;
            }).then(onFulfilled, onRejected)) as typeof test.then;
          return test;
        };
      },
    });
  }

  /** Throws a ContractViolation naming every way `answer` departs from the document. */
  check(method: string, url: string, answer: Answer): void {
    const path = url.split('?', 1)[0]!;
    if (NOT_IN_DOCUMENT.test(path)) return;
    const verb = method === 'HEAD' ? 'get' : method.toLowerCase();
    const operation = this.operations.find((o) => o.method === verb && o.pattern.test(path));
    const problems: string[] = [];
    const where = operation
      ? `${method} ${operation.template} (${url})`
      : `${method} ${url} (no operation)`;

    let response: Json | undefined;
    if (operation) {
      response = operation.responses[String(answer.status)];
      if (!response) problems.push(`status ${answer.status} is not documented`);
    } else if (answer.status < 400) {
      problems.push(`answered ${answer.status} on a path and method the document does not have`);
    } else {
      response = {
        content: { [PROBLEM_MEDIA]: { schema: { $ref: '#/components/schemas/ProblemDocument' } } },
        headers: { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } },
      };
    }
    if (response) {
      this.checkHeaders(response, answer, problems);
      if (method !== 'HEAD') this.checkBody(where, answer, response, problems);
    }
    if (problems.length > 0) {
      const body = (bodyText(answer) ?? JSON.stringify(answer.body) ?? '').slice(0, 500);
      throw new ContractViolation(
        `The answer to ${where} departs from /docs-json:\n  - ${problems.join('\n  - ')}\n` +
          `  status ${answer.status}, content-type ${answer.headers['content-type'] ?? '(none)'}, body: ${body}`,
      );
    }
  }

  private checkHeaders(response: Json, answer: Answer, problems: string[]): void {
    for (const [name, declared] of Object.entries((response.headers ?? {}) as Json)) {
      const header = this.resolve(declared);
      const value = answer.headers[name.toLowerCase()];
      if (value === undefined) {
        if (header.required) problems.push(`header ${name} is missing`);
        continue;
      }
      if (header.schema) {
        const validate = this.validator(`header ${JSON.stringify(header.schema)}`, header.schema);
        if (!validate(String(value))) {
          problems.push(
            `header ${name}: ${JSON.stringify(value)} ${this.ajv.errorsText(validate.errors)}`,
          );
        }
      }
    }
  }

  private checkBody(where: string, answer: Answer, response: Json, problems: string[]): void {
    const content = (response.content ?? {}) as Json;
    const text = bodyText(answer);
    const media = (answer.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
    if (Object.keys(content).length === 0) {
      if (text) problems.push('a body where the document declares none');
      return;
    }
    const declared = content[media];
    if (!declared) {
      problems.push(
        `content type ${media || '(none)'} is not one of ${Object.keys(content).join(', ')}`,
      );
      return;
    }
    if (!declared.schema) return;
    let body: unknown = text ?? '';
    if (/[/+]json$/.test(media)) {
      try {
        body = text === undefined ? answer.body : JSON.parse(text);
      } catch {
        problems.push('the body is not JSON');
        return;
      }
    }
    const key = `${where.split(' (')[0]} ${answer.status} ${media}`;
    const validate = this.validator(key, declared.schema);
    if (!validate(body)) {
      for (const error of validate.errors ?? []) {
        problems.push(`body${error.instancePath} ${error.message} ${JSON.stringify(error.params)}`);
      }
    }
  }

  /** A compiled schema; `#/components/...` references point into the document. */
  private validator(key: string, schema: Json): ValidateFunction {
    let validate = this.validators.get(key);
    if (!validate) {
      const rooted = JSON.parse(
        JSON.stringify(schema).replace(/"#\/components\//g, '"openapi#/components/'),
      );
      validate = this.ajv.compile(rooted);
      this.validators.set(key, validate);
    }
    return validate;
  }

  private resolve(value: Json): Json {
    if (typeof value?.$ref !== 'string') return value;
    const target = value.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce((node: Json | undefined, part: string) => node?.[part], this.document);
    if (!target) throw new ContractViolation(`/docs-json: unresolved ${value.$ref}`);
    return target;
  }
}
