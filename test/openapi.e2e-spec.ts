import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, createTestApp, OpenApiContract, TestApp } from './helpers/app';
import { createOrg } from './helpers/orgs';
import { registerUser, SignedInUser, uniqueEmail } from './helpers/users';

type Json = Record<string, any>;
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const PROBLEM = { $ref: '#/components/schemas/ProblemDocument' };

function operations(doc: Json): Array<{ method: string; path: string; op: Json }> {
  return Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] })),
  );
}

const byId = (doc: Json, id: string) => operations(doc).find((o) => o.op.operationId === id)!;
const schema = (doc: Json, name: string) => doc.components.schemas[name];
const param = (op: Json, name: string) => op.parameters.find((p: Json) => p.name === name);

describe('the OpenAPI document is an exact contract', () => {
  let t: TestApp;
  let doc: Json;

  beforeAll(async () => {
    t = await createTestApp();
    doc = (await t.http().get('/docs-json')).body;
  });
  afterAll(() => t.close());

  it('comes from explicit decorators only, so `nest build` and ts-jest make the same document', () => {
    // The @nestjs/swagger compiler plugin needs a type-checked program, which ts-jest's
    // isolated transpilation has not: with it, the e2e suites would check another document.
    const cli = JSON.parse(readFileSync(join(__dirname, '..', 'nest-cli.json'), 'utf8'));
    expect(cli.compilerOptions.plugins ?? []).toEqual([]);
    expect(Object.keys(schema(doc, 'RegisterDto').properties)).toEqual([
      'email',
      'password',
      'name',
      'inviteToken',
    ]);
  });

  it('names every operation with a unique lowerCamelCase id fit for a generated method', () => {
    const ids = operations(doc).map((o) => o.op.operationId);
    expect(ids.every((id) => /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(byId(doc, 'createTask').path).toBe('/api/v1/orgs/{orgId}/projects/{projectId}/tasks');
    expect(byId(doc, 'listTasks').method).toBe('get');
  });

  it('closes every object schema, as the validation pipe and the serializers are closed', () => {
    for (const [name, s] of Object.entries(doc.components.schemas as Json)) {
      if (s.type !== 'object') continue;
      const open = ['TaskActivityResponse', 'AuditEntryResponse'].includes(name)
        ? s.properties.metadata.additionalProperties
        : undefined;
      expect({ name, additionalProperties: s.additionalProperties }).toEqual({
        name,
        additionalProperties: false,
      });
      if (open !== undefined) expect(open).toBe(true); // metadata is free-form jsonb
    }
    const invite = byId(doc, 'createInvite').op.requestBody.content['application/json'].schema;
    expect(invite.oneOf.map((s: Json) => s.$ref)).toEqual([
      '#/components/schemas/EmailInviteDto',
      '#/components/schemas/LinkInviteDto',
    ]);
    expect(schema(doc, 'LinkInviteDto').required).toEqual(['role', 'maxUses']);
    expect(schema(doc, 'EmailInviteDto').required).toEqual(['email', 'role']);
  });

  it('types integers, dates, non-empty tokens and NUL-free strings as the API checks them', () => {
    expect(param(byId(doc, 'listTasks').op, 'limit').schema.type).toBe('integer');
    expect(schema(doc, 'LinkInviteDto').properties.maxUses.type).toBe('integer');
    expect(schema(doc, 'LinkInviteDto').properties.expiresInHours.type).toBe('integer');
    for (const [dto, field] of [
      ['LoginDto', 'password'],
      ['RefreshDto', 'refreshToken'],
      ['AcceptInviteDto', 'token'],
      ['ChangePasswordDto', 'currentPassword'],
      ['RegisterDto', 'inviteToken'],
    ]) {
      expect({ dto, field, minLength: schema(doc, dto!).properties[field!].minLength }).toEqual({
        dto,
        field,
        minLength: 1,
      });
    }
    const list = byId(doc, 'listOrgTasks').op;
    for (const name of ['dueBefore', 'dueAfter']) {
      expect(param(list, name).schema.format).toBe('date');
    }
    expect(schema(doc, 'CreateTaskDto').properties.dueDate.format).toBe('date');
    expect(schema(doc, 'CreateTaskDto').properties.title.pattern).toContain('\\u0000');
    expect(param(list, 'q').schema.pattern).toBe('^[^\\u0000]*$');
    const key = param(byId(doc, 'createOrganization').op, 'Idempotency-Key').schema;
    expect(key).toMatchObject({ minLength: 1, maxLength: 200 });
    expect(schema(doc, 'StatsResponse').properties.byAssignee.items).toEqual({
      $ref: '#/components/schemas/AssigneeCount',
    });
  });

  it('documents every error as problem+json and the statuses the edges of the API answer', () => {
    for (const { method, path, op } of operations(doc)) {
      for (const [status, response] of Object.entries(op.responses as Json)) {
        expect(response.headers['X-Request-Id']).toEqual({
          $ref: '#/components/headers/X-Request-Id',
        });
        if (Number(status) >= 400) {
          expect({ route: `${method} ${path} ${status}`, content: response.content }).toEqual({
            route: `${method} ${path} ${status}`,
            content: { 'application/problem+json': { schema: PROBLEM } },
          });
        }
      }
      const codes = Object.keys(op.responses);
      if (path !== '/health') expect(codes).toContain('503');
      if (method !== 'get' && path.startsWith('/api/')) expect(codes).toContain('413');
    }
    const statuses = (id: string) => Object.keys(byId(doc, id).op.responses);
    expect(statuses('createOrganization')).toContain('422');
    expect(statuses('createInvite')).toEqual(expect.arrayContaining(['422', '429']));
    expect(statuses('register')).toEqual(expect.arrayContaining(['404', '429']));
    expect(statuses('getTask')).toContain('414');
    const throttled = byId(doc, 'acceptInvite').op.responses;
    expect(Object.keys(throttled[200].headers)).toContain('X-RateLimit-Remaining-invites');
    expect(throttled[429].headers['Retry-After'].required).toBe(true);
    expect(byId(doc, 'getTask').op.responses[200].headers.ETag.required).toBe(true);
    expect(byId(doc, 'createTask').op.responses[201].headers).toHaveProperty('Idempotent-Replayed');
    expect(Object.keys(byId(doc, 'exportTasks').op.responses[200].content)).toEqual(['text/csv']);
  });

  it('links each create to the operations on what it made', () => {
    const links = byId(doc, 'createTask').op.responses[201].links;
    expect(Object.keys(links).sort()).toEqual(
      ['deleteTask', 'getTask', 'listTaskActivity', 'updateTask'].sort(),
    );
    expect(links.getTask).toEqual({
      operationId: 'getTask',
      parameters: {
        orgId: '$request.path.orgId',
        projectId: '$request.path.projectId',
        taskId: '$response.body#/id',
      },
    });
    for (const { op } of operations(doc)) {
      for (const response of Object.values(op.responses as Json)) {
        for (const link of Object.values((response.links ?? {}) as Json)) {
          expect(byId(doc, link.operationId)).toBeDefined();
        }
      }
    }
  });

  describe('request schemas accept exactly what the API accepts', () => {
    let owner: SignedInUser;
    let orgId: string;
    let projectId: string;
    let accepts: (name: string, body: unknown) => boolean;

    beforeAll(async () => {
      owner = await registerUser(t);
      orgId = await createOrg(t, owner);
      const project = await t
        .http()
        .post(api(`/orgs/${orgId}/projects`))
        .set(owner.auth)
        .send({ name: 'Contract' });
      projectId = project.body.id;
      const ajv = new Ajv({ strict: false, allErrors: true });
      addFormats(ajv);
      ajv.addSchema({ components: doc.components }, 'openapi');
      accepts = (name, body) =>
        ajv.validate({ $ref: `openapi#/components/schemas/${name}` }, body) as boolean;
    });

    const tasks: Array<[string, unknown]> = [
      ['minimal', { title: 'A' }],
      ['every field', { title: 'B', priority: 'high', status: 'done', dueDate: '2030-02-28' }],
      ['an unknown field', { title: 'C', orgId: '00000000-0000-4000-8000-000000000000' }],
      ['a blank title', { title: '   ' }],
      ['a NUL in the title', { title: 'a\u0000b' }],
      ['no real day', { title: 'D', dueDate: '2030-02-30' }],
      ['a date-time for a date', { title: 'E', dueDate: '2030-02-01T00:00:00Z' }],
      ['a title of 201 characters', { title: 'x'.repeat(201) }],
      ['null for a status', { title: 'F', status: null }],
    ];
    it.each(tasks)('createTask with %s', async (_label, body) => {
      const res = await t
        .http()
        .post(api(`/orgs/${orgId}/projects/${projectId}/tasks`))
        .set(owner.auth)
        .send(body as object);
      expect({ documented: accepts('CreateTaskDto', body), status: res.status }).toEqual({
        documented: res.status === 201,
        status: res.status,
      });
    });

    const invites: Array<[string, Json]> = [
      ['an email invite', { email: uniqueEmail('inv'), role: 'member' }],
      ['a link invite', { role: 'viewer', maxUses: 3, expiresInHours: 2 }],
      ['a link invite without maxUses', { role: 'viewer' }],
      ['both shapes at once', { email: uniqueEmail('both'), role: 'member', maxUses: 2 }],
      ['a fractional maxUses', { role: 'viewer', maxUses: 1.5 }],
    ];
    it.each(invites)('createInvite with %s', async (_label, body) => {
      const res = await t
        .http()
        .post(api(`/orgs/${orgId}/invites`))
        .set(owner.auth)
        .send(body);
      const ajv = new Ajv({ strict: false });
      addFormats(ajv);
      ajv.addSchema({ components: doc.components }, 'openapi');
      const documented = ajv.validate(
        {
          oneOf: [
            { $ref: 'openapi#/components/schemas/EmailInviteDto' },
            { $ref: 'openapi#/components/schemas/LinkInviteDto' },
          ],
        },
        body,
      );
      expect({ documented, status: res.status }).toEqual({
        documented: res.status === 201,
        status: res.status,
      });
    });
  });

  describe('the response hook', () => {
    it('refuses an answer whose body, status or headers depart from the document', async () => {
      const owner = await registerUser(t);
      const orgId = await createOrg(t, owner);
      const answer = await t
        .http()
        .get(api(`/orgs/${orgId}`))
        .set(owner.auth);
      const contract = (changed: (d: Json) => void) => {
        const copy = JSON.parse(JSON.stringify(doc));
        changed(copy);
        return new OpenApiContract(copy);
      };
      const check = (c: OpenApiContract) => () => c.check('GET', api(`/orgs/${orgId}`), answer);

      expect(check(new OpenApiContract(doc))).not.toThrow();
      expect(
        check(contract((d) => d.components.schemas.OrganizationResponse.required.push('slug'))),
      ).toThrow(/must have required property 'slug'/);
      expect(
        check(contract((d) => delete d.components.schemas.OrganizationResponse.properties.name)),
      ).toThrow(/must NOT have additional properties/);
      expect(
        check(contract((d) => delete d.paths['/api/v1/orgs/{orgId}'].get.responses['200'])),
      ).toThrow(/status 200 is not documented/);
      expect(
        check(
          contract((d) => {
            d.paths['/api/v1/orgs/{orgId}'].get.responses['200'].headers.ETag = {
              required: true,
            };
          }),
        ),
      ).toThrow(/header ETag is missing/);
    });

    it('checks answers from paths with no operation against the problem schema', async () => {
      const res = await t.http().get(api('/no/such/route'));
      expect(res.status).toBe(404);
      const wrongMethod = await t.http().put(api('/orgs'));
      expect(wrongMethod.status).toBe(405);
      const fake = { ...res, status: 200 } as typeof res;
      expect(() => new OpenApiContract(doc).check('GET', api('/no/such/route'), fake)).toThrow(
        /does not have/,
      );
    });
  });

  it('generates a typed client (openapi-typescript) that type-checks against real answers', async () => {
    const owner = await registerUser(t);
    const orgId = await createOrg(t, owner, 'Typed');
    const http = t.http();
    const project = await http
      .post(api(`/orgs/${orgId}/projects`))
      .set(owner.auth)
      .send({ name: 'Typed project' });
    const task = await t
      .http()
      .post(api(`/orgs/${orgId}/projects/${project.body.id}/tasks`))
      .set(owner.auth)
      .send({ title: 'Typed task', dueDate: '2031-01-01' });
    const tasks = await t
      .http()
      .get(api(`/orgs/${orgId}/projects/${project.body.id}/tasks`))
      .set(owner.auth);
    const stats = await t
      .http()
      .get(api(`/orgs/${orgId}/stats`))
      .set(owner.auth);
    const me = await t.http().get(api('/me')).set(owner.auth);
    const invite = await t
      .http()
      .post(api(`/orgs/${orgId}/invites`))
      .set(owner.auth)
      .send({ role: 'member', maxUses: 2 });
    const missing = await t
      .http()
      .get(api(`/orgs/${orgId}/projects/00000000-0000-4000-8000-000000000000`))
      .set(owner.auth);
    expect([task.status, tasks.status, stats.status, me.status, invite.status]).toEqual([
      201, 200, 200, 200, 201,
    ]);
    expect(missing.status).toBe(404);

    const dir = mkdtempSync(join(tmpdir(), 'worklane-client-'));
    try {
      writeFileSync(join(dir, 'openapi.json'), JSON.stringify(doc));
      execFileSync(
        process.execPath,
        [
          join(__dirname, '..', 'node_modules', 'openapi-typescript', 'bin', 'cli.js'),
          join(dir, 'openapi.json'),
          '--output',
          join(dir, 'api.d.ts'),
        ],
        { stdio: 'pipe' },
      );
      const literal = (value: unknown) => JSON.stringify(value, null, 2);
      writeFileSync(
        join(dir, 'client.ts'),
        `import type { components, operations } from './api';

type Json<O extends keyof operations, S extends number, M extends string = 'application/json'> =
  operations[O]['responses'] extends { [K in S]: { content: { [N in M]: infer B } } } ? B : never;

// A request body the generated types accept, as a client would write it.
export const body: operations['createTask']['requestBody']['content']['application/json'] = {
  title: 'Typed task',
  dueDate: '2031-01-01',
};

// Real answers of the running API, as the generated types must describe them exactly.
export const created = ${literal(task.body)} satisfies Json<'createTask', 201>;
export const page = ${literal(tasks.body)} satisfies Json<'listTasks', 200>;
export const stats = ${literal(stats.body)} satisfies Json<'getStats', 200>;
export const me = ${literal(me.body)} satisfies Json<'getMe', 200>;
export const invite = ${literal(invite.body)} satisfies Json<'createInvite', 201>;
export const missing = ${literal(missing.body)} satisfies Json<'getProject', 404, 'application/problem+json'>;

// What a client does with them compiles.
const version: number = created.version;
const title: string = page.data[0]!.title;
const firstAssignee: string | null | undefined = stats.byAssignee[0]?.assigneeId;
const status: components['schemas']['TaskResponse']['status'] = created.status;
export const used = [version, title, firstAssignee, status, me.user.email, invite.token];
`,
      );
      try {
        execFileSync(
          process.execPath,
          [
            join(__dirname, '..', 'node_modules', 'typescript', 'bin', 'tsc'),
            '--noEmit',
            '--strict',
            '--target',
            'es2022',
            '--module',
            'commonjs',
            '--skipLibCheck',
            join(dir, 'client.ts'),
          ],
          { stdio: 'pipe' },
        );
      } catch (error) {
        const { stdout } = error as { stdout?: Buffer };
        throw new Error(`the generated client does not type-check:\n${stdout?.toString()}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
