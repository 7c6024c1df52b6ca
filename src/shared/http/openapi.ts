import { applyDecorators } from '@nestjs/common';
import { ApiExtension, ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';
import type { ApiPropertyOptions } from '@nestjs/swagger';
import type {
  HeaderObject,
  OpenAPIObject,
  OperationObject,
  ParameterObject,
  ReferenceObject,
  ResponseObject,
  SchemaObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { STATUS_CODES } from 'node:http';
import { MAX_PARAM_LENGTH } from './http-edges';

/**
 * The OpenAPI document as the exact contract of what runs. DTOs and controllers carry
 * explicit decorators (no compiler plugin, so `nest build` and ts-jest see the same
 * document); the rules that hold for every route at once — the validation pipe's, the
 * HTTP layer's — are written into the document here, once, by `finishDocument`.
 */

/** No string of a body, query or header may hold a NUL (the validation pipe refuses it). */
export const NO_NUL = '^[^\\u0000]*$';

/** A trimmed field that must not be blank: some character other than whitespace, no NUL. */
export const NOT_BLANK = '^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$';

export const PROBLEM_JSON = 'application/problem+json';
const PROBLEM_REF = { $ref: '#/components/schemas/ProblemDocument' };

// ---- property decorators -------------------------------------------------------------

/** What the property decorators below take; `required: false` for a field that may be left out. */
export interface FieldOptions {
  required?: boolean;
  description?: string;
  example?: unknown;
  default?: unknown;
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
}

const prop = (options: FieldOptions, schema: Record<string, unknown>) => {
  const { required = true, ...rest } = options;
  const all = { ...rest, ...schema } as ApiPropertyOptions;
  return required ? ApiProperty(all) : ApiPropertyOptional(all);
};

/** A string field. */
export const ApiString = (options: FieldOptions = {}) => prop(options, { type: String });
/** A uuid. */
export const ApiUuid = (options: FieldOptions = {}) =>
  prop(options, { type: String, format: 'uuid' });
/** An instant, written as ISO 8601 (`toJSON()` of a Date). */
export const ApiDateTime = (options: FieldOptions = {}) =>
  prop(options, { type: String, format: 'date-time' });
/** A calendar day, `YYYY-MM-DD` (src/shared/http/iso-date.ts). */
export const ApiDate = (options: FieldOptions = {}) =>
  prop({ example: '2026-12-31', ...options }, { type: String, format: 'date' });
/** A whole number. */
export const ApiInteger = (options: FieldOptions = {}) => prop(options, { type: 'integer' });
/** A boolean. */
export const ApiBoolean = (options: FieldOptions = {}) => prop(options, { type: Boolean });
/** One of `values`. */
export const ApiEnum = (values: readonly string[], options: FieldOptions = {}) =>
  prop(options, { type: String, enum: [...values] });

// ---- response decorators -------------------------------------------------------------

/** The rate-limit headers a throttled route sends once its throttler counted the call. */
const RATE_HEADERS = ['Limit', 'Remaining', 'Reset'] as const;
const THROTTLED = 'x-worklane-throttler';

/**
 * A route counted by a throttler of @nestjs/throttler: 429 with Retry-After, and the
 * `X-RateLimit-*` headers (suffixed `-<name>` for a throttler other than `default`).
 */
export const ApiThrottled = (throttler: 'default' | 'invites') =>
  applyDecorators(
    ApiExtension(THROTTLED, throttler),
    ApiResponse({
      status: 429,
      description: 'Rate limited: retry after `Retry-After` seconds',
      content: { [PROBLEM_JSON]: { schema: PROBLEM_REF } },
      headers: {
        'Retry-After': {
          description: 'Seconds until a retry may succeed',
          required: true,
          schema: { type: 'string', pattern: '^\\d+$' },
        },
      },
    }),
  );

/** The task's version as an entity tag, e.g. `"3"`: send it back in `If-Match`. */
export const ETAG_HEADER: HeaderObject = {
  description: 'The task’s version, for `If-Match`',
  required: true,
  schema: { type: 'string', pattern: '^"\\d+"$', example: '"1"' },
};

/** The ETag of a create; an idempotent replay repeats the original one. */
export const CREATED_ETAG_HEADER: HeaderObject = {
  ...ETAG_HEADER,
  description: 'The new task’s version, for `If-Match` (a replay repeats the first answer’s)',
};

// ---- the document ---------------------------------------------------------------------

type Schema = SchemaObject | ReferenceObject;
const isRef = (s: unknown): s is ReferenceObject => !!s && typeof s === 'object' && '$ref' in s;
const refName = (ref: string) => ref.replace('#/components/schemas/', '');
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;
const WRITES = new Set(['post', 'put', 'patch', 'delete']);

/** Every schema reachable from `root`, including itself. */
function walkSchemas(root: Schema, doc: OpenAPIObject, visit: (s: SchemaObject) => void): void {
  const seen = new Set<SchemaObject>();
  const stack: Schema[] = [root];
  while (stack.length > 0) {
    let schema = stack.pop()!;
    if (isRef(schema)) schema = doc.components!.schemas![refName(schema.$ref)] as SchemaObject;
    if (!schema || seen.has(schema)) continue;
    seen.add(schema);
    visit(schema);
    for (const child of [
      ...Object.values(schema.properties ?? {}),
      ...(schema.items ? [schema.items] : []),
      ...(schema.oneOf ?? []),
      ...(schema.anyOf ?? []),
      ...(schema.allOf ?? []),
      ...(typeof schema.additionalProperties === 'object' ? [schema.additionalProperties] : []),
    ]) {
      stack.push(child as Schema);
    }
  }
}

/** Strings sent by clients: no NUL. */
function forbidNul(schema: SchemaObject): void {
  if (schema.type === 'string' && !schema.enum && !schema.pattern) schema.pattern = NO_NUL;
}

const problem = (status: number, description?: string): ResponseObject => ({
  description: description ?? STATUS_CODES[status] ?? 'Error',
  content: { [PROBLEM_JSON]: { schema: PROBLEM_REF } },
});

/**
 * The statuses every route of a kind can answer, whatever its handler does:
 * - 400: a URL that is not validly percent-encoded (any route); for writes also a
 *   malformed JSON body or a body that is not an object.
 * - 401: a route that needs a token.
 * - 409: a write that collided with a concurrent one (deadlock, serialization failure).
 * - 413 / 415: a write whose body is over 1 MiB, or not JSON.
 * - 414: a path parameter longer than MAX_PARAM_LENGTH.
 * - 422 and a 400 for a bad key: routes that take `Idempotency-Key`.
 * - 500: an unexpected error (a bug): logged with the request id, revealing nothing.
 * - 503: the database is unavailable or saturated (every route that reaches it).
 */
function addCommonResponses(path: string, method: string, op: OperationObject): void {
  const add = (status: number, description?: string) => {
    op.responses[status] ??= problem(status, description);
  };
  const params = (op.parameters ?? []) as ParameterObject[];
  add(400);
  if (op.security?.length) add(401, 'Missing, invalid or expired access token');
  add(431, 'The request line or headers are over 16 KiB (a URL that long, too)');
  if (WRITES.has(method) && path.startsWith('/api/')) {
    add(409, 'Conflict (also: collided with a concurrent change; retry)');
    add(413, 'The body is over 1 MiB');
    add(415, 'The body is not application/json');
    if (op.security?.length) {
      op.responses[429] ??= problem(
        429,
        'Too many writes from you or in this org; see Retry-After',
      );
      const limited = op.responses[429] as ResponseObject;
      limited.headers = {
        ...limited.headers,
        'Retry-After': {
          description: 'Seconds until the budget that ran out refills',
          required: true,
          schema: { type: 'string', pattern: '^\\d+$' },
        },
      };
    }
  }
  if (params.some((p) => p.in === 'path')) {
    add(414, `A path parameter is longer than ${MAX_PARAM_LENGTH} characters`);
  }
  if (params.some((p) => p.in === 'header' && p.name === 'Idempotency-Key')) {
    add(422, 'The Idempotency-Key was already used with another request');
  }
  add(500, 'An unexpected error, logged with the request id; the answer reveals nothing');
  if (!(method === 'get' && path === '/health')) {
    op.responses[503] ??= problem(503, 'The database is unavailable or saturated; retry');
    const unavailable = op.responses[503] as ResponseObject;
    unavailable.headers = {
      ...unavailable.headers,
      'Retry-After': {
        description: 'Seconds until a retry may succeed',
        required: true,
        schema: { type: 'string', pattern: '^\\d+$' },
      },
    };
  }
}

/** Headers every response carries, and those of throttled and idempotent routes. */
function addResponseHeaders(path: string, method: string, op: OperationObject): void {
  const writeLimited = WRITES.has(method) && path.startsWith('/api/') && !!op.security?.length;
  const extensions = op as unknown as Record<string, unknown>;
  const throttler = extensions[THROTTLED] as string | undefined;
  delete extensions[THROTTLED];
  const idempotent = ((op.parameters ?? []) as ParameterObject[]).some(
    (p) => p.name === 'Idempotency-Key',
  );
  for (const [status, response] of Object.entries(op.responses)) {
    const res = response as ResponseObject;
    const headers: Record<string, HeaderObject | ReferenceObject> = {
      'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' },
      ...res.headers,
    };
    if (throttler && status.startsWith('2')) {
      const suffix = throttler === 'default' ? '' : `-${throttler}`;
      for (const name of RATE_HEADERS) {
        headers[`X-RateLimit-${name}${suffix}`] = {
          $ref: `#/components/headers/X-RateLimit-${name}`,
        };
      }
    }
    if (writeLimited) {
      headers['RateLimit-Policy'] = { $ref: '#/components/headers/RateLimit-Policy' };
      headers['RateLimit'] = { $ref: '#/components/headers/RateLimit' };
    }
    if (idempotent && status.startsWith('2')) {
      headers['Idempotent-Replayed'] = { $ref: '#/components/headers/Idempotent-Replayed' };
    }
    res.headers = headers;
  }
}

/** Routes that take an `Idempotency-Key`: the same bounds the interceptor enforces. */
function tightenParameters(op: OperationObject): void {
  for (const param of (op.parameters ?? []) as ParameterObject[]) {
    if (param.in === 'path') param.schema = { type: 'string', ...param.schema };
    if (param.in === 'header' && param.name === 'Idempotency-Key') {
      param.schema = { type: 'string', minLength: 1, maxLength: 200, pattern: NO_NUL };
    }
    if (param.in === 'query' && param.schema) {
      const schema = param.schema as SchemaObject;
      forbidNul(schema);
      if (schema.items) forbidNul(schema.items as SchemaObject);
    }
  }
}

/**
 * OpenAPI links from a create's answer to the operations on what it made, so stateful
 * testers and client generators can chain them. `[from, id field, path parameter, to...]`.
 */
const LINKS: Array<[string, string, string, string[]]> = [
  [
    'createOrganization',
    'id',
    'orgId',
    ['getOrganization', 'renameOrganization', 'deleteOrganization'],
  ],
  ['createProject', 'id', 'projectId', ['getProject', 'updateProject', 'deleteProject']],
  ['createTask', 'id', 'taskId', ['getTask', 'updateTask', 'deleteTask', 'listTaskActivity']],
  ['createInvite', 'id', 'inviteId', ['revokeInvite']],
  [
    'createWebhook',
    'id',
    'webhookId',
    [
      'getWebhook',
      'updateWebhook',
      'deleteWebhook',
      'rotateWebhookSecret',
      'listWebhookDeliveries',
    ],
  ],
];

function addLinks(doc: OpenAPIObject): void {
  const ops = new Map<string, { path: string; op: OperationObject }>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (op?.operationId) ops.set(op.operationId, { path, op });
    }
  }
  for (const [fromId, field, param, targets] of LINKS) {
    const from = ops.get(fromId);
    if (!from) throw new Error(`OpenAPI links: no operation ${fromId}`);
    const created = Object.entries(from.op.responses).find(([s]) => s.startsWith('2'))!;
    const response = created[1] as ResponseObject;
    response.links = {};
    for (const target of targets) {
      const to = ops.get(target);
      if (!to) throw new Error(`OpenAPI links: no operation ${target}`);
      const parameters: Record<string, string> = {};
      for (const [, name] of to.path.matchAll(/\{(\w+)\}/g)) {
        parameters[name!] = name === param ? `$response.body#/${field}` : `$request.path.${name}`;
      }
      response.links[target] = { operationId: target, parameters };
    }
  }
}

/**
 * Writes into the document what holds for every route at once, and checks what must hold
 * for it to be exact: every operation has an id, every object schema is closed.
 */
export function finishDocument(doc: OpenAPIObject): OpenAPIObject {
  const schemas = (doc.components!.schemas ??= {}) as Record<string, SchemaObject>;
  // The validation pipe forbids unknown fields, and the serializers write exactly the
  // declared ones: every object schema is closed unless it says otherwise.
  for (const schema of Object.values(schemas)) {
    if (schema.type === 'object' || schema.properties) {
      schema.type = 'object';
      schema.additionalProperties ??= false;
    }
  }
  doc.components!.headers = {
    'X-Request-Id': {
      description:
        'The request id: the incoming one when sane (`[\\w.:-]{1,128}`), else a new uuid',
      required: true,
      schema: { type: 'string', pattern: '^[\\w.:-]{1,128}$' },
    },
    'Idempotent-Replayed': {
      description: '`true` when this is the replay of the first response to the same key',
      required: false,
      schema: { type: 'string', enum: ['true'] },
    },
    'RateLimit-Policy': {
      description:
        'The write budgets of this call (IETF httpapi draft): `"user";q=600;w=60, "org";q=3000;w=60`',
      required: false,
      schema: { type: 'string' },
    },
    RateLimit: {
      description: 'What is left of each budget and when it refills: `"user";r=599;t=60, …`',
      required: false,
      schema: { type: 'string' },
    },
    'X-RateLimit-Limit': {
      description: 'Calls allowed per window',
      required: true,
      schema: { type: 'string', pattern: '^\\d+$' },
    },
    'X-RateLimit-Remaining': {
      description: 'Calls left in this window',
      required: true,
      schema: { type: 'string', pattern: '^\\d+$' },
    },
    'X-RateLimit-Reset': {
      description: 'Seconds until the window resets',
      required: true,
      schema: { type: 'string', pattern: '^\\d+$' },
    },
  };

  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      if (!op.operationId) throw new Error(`OpenAPI: ${method} ${path} has no operationId`);
      const body = (op.requestBody as { content?: Record<string, { schema: Schema }> })?.content?.[
        'application/json'
      ]?.schema;
      if (body) walkSchemas(body, doc, forbidNul);
      tightenParameters(op);
      addCommonResponses(path, method, op);
      for (const [status, response] of Object.entries(op.responses)) {
        const res = response as ResponseObject;
        // Every error is problem+json (ProblemDetailsFilter), whatever a library declared.
        if (Number(status) >= 400) res.content = problem(Number(status)).content;
      }
      addResponseHeaders(path, method, op);
    }
  }
  addLinks(doc);
  return doc;
}
