import fc from 'fast-check';

/** A JSON schema as our OpenAPI document writes them (the subset it uses). */
export interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  format?: string;
  pattern?: string;
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  default?: unknown;
}

export type Components = Record<string, Schema>;

const resolve = (schema: Schema, components: Components): Schema => {
  let s = schema;
  for (let depth = 0; s.$ref && depth < 10; depth++) {
    s = components[s.$ref.replace('#/components/schemas/', '')] ?? {};
  }
  return s;
};

const iso = fc
  .date({
    min: new Date('2000-01-01T00:00:00Z'),
    max: new Date('2099-12-31T00:00:00Z'),
    noInvalidDate: true,
  })
  .map((d) => d.toISOString());

/** A string the schema accepts. */
function validString(s: Schema): fc.Arbitrary<string> {
  if (s.format === 'uuid') return fc.uuid();
  if (s.format === 'date-time') return iso;
  if (s.format === 'date') return iso.map((d) => d.slice(0, 10));
  if (s.format === 'email')
    return fc.emailAddress().filter((e) => e.length <= (s.maxLength ?? 254));
  if (s.format === 'uri')
    return fc.constantFrom('https://example.test/hook', 'http://127.0.0.1:9/x');
  const minLength = s.minLength ?? 0;
  const maxLength = Math.min(s.maxLength ?? 60, 60);
  if (s.pattern) {
    let regex: RegExp;
    try {
      regex = new RegExp(s.pattern, 'u');
    } catch {
      return fc.string({ minLength, maxLength });
    }
    return fc
      .stringMatching(regex)
      .filter((v) => v.length >= minLength && v.length <= (s.maxLength ?? Infinity));
  }
  return fc
    .string({ minLength: Math.max(1, minLength), maxLength: Math.max(maxLength, minLength) })
    .filter((v) => !v.includes('\u0000') && v.trim().length > 0);
}

/** Values the schema accepts (never a shape error). */
export function validValue(
  schema: Schema,
  components: Components,
  depth = 0,
): fc.Arbitrary<unknown> {
  const s = resolve(schema, components);
  if (s.oneOf?.length) return fc.oneof(...s.oneOf.map((x) => validValue(x, components, depth + 1)));
  if (s.anyOf?.length) return fc.oneof(...s.anyOf.map((x) => validValue(x, components, depth + 1)));
  if (s.allOf?.length) return validValue(s.allOf[0]!, components, depth + 1);
  const base = ((): fc.Arbitrary<unknown> => {
    if (s.enum?.length) return fc.constantFrom(...s.enum);
    const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
    switch (type) {
      case 'string':
        return validString(s);
      case 'integer':
        return fc.integer({ min: s.minimum ?? -1000, max: s.maximum ?? 1000 });
      case 'number':
        return fc.double({ min: s.minimum ?? -1000, max: s.maximum ?? 1000, noNaN: true });
      case 'boolean':
        return fc.boolean();
      case 'array':
        return depth > 4
          ? fc.constant([])
          : fc.array(validValue(s.items ?? {}, components, depth + 1), {
              minLength: s.minItems ?? 0,
              maxLength: Math.min(s.maxItems ?? 4, 4),
            });
      case 'object':
      default: {
        if (!s.properties || depth > 4) return fc.constant({});
        const required = new Set(s.required ?? []);
        const record: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [name, prop] of Object.entries(s.properties)) {
          record[name] = validValue(prop, components, depth + 1);
        }
        return fc.record(record, {
          requiredKeys: Object.keys(record).filter((k) => required.has(k)),
        });
      }
    }
  })();
  return s.nullable ? fc.oneof(base, fc.constant(null)) : base;
}

/** What no schema of ours accepts, or only by luck: the hostile inputs. */
export const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.constant(''),
  fc.constant('\u0000'),
  fc.constant('a\u0000b'),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ minLength: 5000, maxLength: 5000 }).map((s) => s.padEnd(100_000, 'x')),
  fc.constantFrom(
    '🦄'.repeat(300),
    '\u202e\u0301',
    'NaN',
    '-0',
    '1e309',
    "' OR 1=1 --",
    '../../etc',
  ),
  fc.integer(),
  fc.double(),
  fc.constantFrom(2 ** 63, -(2 ** 63), Number.MAX_SAFE_INTEGER + 2, 1e308),
  fc.boolean(),
  fc.constantFrom(
    'not-a-uuid',
    '00000000-0000-0000-0000-00000000000g',
    '2026-02-30',
    '2026-13-01T25:61:00Z',
  ),
  fc.constantFrom('eyJ9', 'W10', '!!!!'), // cursors
  fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 3 }),
  fc.anything({ maxDepth: 2 }),
  fc.integer({ min: 40, max: 60 }).map((depth) => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = { a: v };
    return v;
  }),
);

/** A body: schema-valid (tagged) or hostile: a valid body with one field broken, or junk. */
export function bodyFor(
  schema: Schema | undefined,
  components: Components,
): fc.Arbitrary<{ valid: boolean; body: unknown }> {
  if (!schema) return hostile.map((body) => ({ valid: false, body }));
  const valid = validValue(schema, components);
  const broken = fc
    .tuple(valid, fc.string({ minLength: 1, maxLength: 12 }), hostile)
    .map(([body, key, bad]) => {
      if (body && typeof body === 'object' && !Array.isArray(body)) {
        const keys = Object.keys(body);
        const target =
          keys.length > 0 && key.length % 2 === 0 ? keys[key.length % keys.length]! : key;
        return { ...(body as object), [target]: bad };
      }
      return bad;
    });
  return fc.oneof(
    { weight: 2, arbitrary: valid.map((body) => ({ valid: true, body })) },
    { weight: 2, arbitrary: broken.map((body) => ({ valid: false, body })) },
    { weight: 1, arbitrary: hostile.map((body) => ({ valid: false, body })) },
  );
}
