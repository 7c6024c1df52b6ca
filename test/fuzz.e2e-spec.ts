import fc from 'fast-check';
import { createTestApp, TestApp } from './helpers/app';
import { createOrgWorld, OrgWorld } from './helpers/orgs';
import { bodyFor, Components, hostile, Schema, validValue } from './helpers/openapi-arbitraries';
import { PROBLEM } from './helpers/problems';
import { createProject, createTask } from './helpers/work';

/**
 * Property-based fuzzing driven by the OpenAPI document (fast-check): for every operation,
 * as each role and anonymously, random valid and hostile path ids, queries, headers and
 * bodies. Properties: never a 5xx; every error is problem+json carrying the request id; a
 * request valid by the document is never refused for its shape by the validation pipe; no
 * write lands in another org. Seeded and bounded: FUZZ_SEED reproduces a run (the seed is
 * printed), FUZZ_RUNS sets the runs per operation (`npm run test:fuzz` runs more).
 */
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const RUNS = Number(process.env.FUZZ_RUNS ?? 12);
/** Operations that would end the world the others run in, or never answer (a stream). */
const SKIPPED = new Set([
  'DELETE /api/v1/orgs/{orgId}',
  'POST /api/v1/orgs/{orgId}/leave',
  'POST /api/v1/auth/logout-all',
  'GET /api/v1/orgs/{orgId}/events',
]);
const PIPE_REFUSAL = 'The request has invalid fields.';

interface Operation {
  method: string;
  path: string;
  parameters: Array<{ name: string; in: string; required?: boolean; schema?: Schema }>;
  body?: Schema;
}

describe('fuzzing every operation of the OpenAPI document', () => {
  let t: TestApp;
  let w: OrgWorld;
  let operations: Operation[];
  let components: Components;
  const ids: Record<string, string[]> = {};
  let cases = 0;

  /** What the other org holds: a fuzzed write must never change it. */
  const otherOrgCounts = () =>
    t.dataSource.query(
      `SELECT (SELECT count(*) FROM projects WHERE org_id = $1)::int AS projects,
              (SELECT count(*) FROM tasks WHERE org_id = $1)::int AS tasks,
              (SELECT count(*) FROM memberships WHERE org_id = $1)::int AS memberships,
              (SELECT count(*) FROM invites WHERE org_id = $1)::int AS invites,
              (SELECT count(*) FROM audit_log WHERE org_id = $1)::int AS audit,
              (SELECT name FROM organizations WHERE id = $1) AS name`,
      [w.otherOrgId],
    );

  beforeAll(async () => {
    console.log(`[fuzz] seed ${SEED} (FUZZ_SEED=${SEED} reproduces), ${RUNS} runs per operation`);
    t = await createTestApp();
    w = await createOrgWorld(t);
    const projectId = await createProject(t, w.orgId, w.owner);
    const task = await createTask(t, w.orgId, projectId, w.member, { title: 'fuzzed' });
    const otherProject = await createProject(t, w.otherOrgId, w.stranger);
    const otherTask = await createTask(t, w.otherOrgId, otherProject, w.stranger, {
      title: 'not yours',
    });
    Object.assign(ids, {
      orgId: [w.orgId, w.orgId, w.orgId, w.otherOrgId],
      projectId: [projectId, projectId, otherProject],
      taskId: [task.id, task.id, otherTask.id],
      userId: [w.viewer.id, w.stranger.id],
    });
    const doc = (await t.http().get('/docs-json')).body;
    components = doc.components.schemas;
    operations = [];
    for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        if (!path.startsWith('/api/')) continue;
        if (SKIPPED.has(`${method.toUpperCase()} ${path}`)) continue;
        operations.push({
          method,
          path,
          parameters: op.parameters ?? [],
          body: op.requestBody?.content?.['application/json']?.schema,
        });
      }
    }
  });
  afterAll(async () => {
    console.log(`[fuzz] ${cases} requests over ${operations?.length} operations, seed ${SEED}`);
    await t?.close();
  });

  it('holds its properties on every operation', async () => {
    const before = await otherOrgCounts();
    // The world's callers (and anonymous); the other org's ids are in the pools, so they try it too.
    const callers = fc.constantFrom('owner', 'admin', 'member', 'viewer', 'anonymous');
    for (const op of operations) {
      const pathParams = op.parameters.filter((p) => p.in === 'path');
      const query = op.parameters.filter((p) => p.in === 'query');
      const headers = op.parameters.filter((p) => p.in === 'header');
      const paramArb = (name: string) =>
        fc.oneof(
          {
            weight: 6,
            arbitrary: fc
              .constantFrom(...(ids[name] ?? [w.orgId]))
              .map((v) => ({ v, valid: true })),
          },
          { weight: 2, arbitrary: fc.uuid().map((v) => ({ v, valid: true })) },
          {
            weight: 1,
            arbitrary: hostile.map((v) => ({ v: String(v).slice(0, 300), valid: false })),
          },
        );
      const queryArb = (p: Operation['parameters'][number]) =>
        fc.option(
          fc.oneof(
            validValue(p.schema ?? { type: 'string' }, components).map((v) => ({ v, valid: true })),
            hostile.map((v) => ({ v, valid: false })),
          ),
          { nil: undefined },
        );
      const request = fc.record({
        caller: callers,
        path: fc.tuple(...pathParams.map((p) => paramArb(p.name))),
        query: fc.tuple(...query.map(queryArb)),
        headers: fc.tuple(
          ...headers.map((p) =>
            fc.option(fc.oneof(validValue(p.schema ?? { type: 'string' }, components), hostile), {
              nil: undefined,
            }),
          ),
        ),
        body: bodyFor(op.body, components),
      });
      const outcome = await fc.check(
        fc.asyncProperty(request, async (r) => {
          cases++;
          let url = op.path;
          pathParams.forEach((p, i) => {
            url = url.replace(`{${p.name}}`, encodeURIComponent(String(r.path[i]!.v)));
          });
          const search = new URLSearchParams();
          query.forEach((p, i) => {
            const value = r.query[i];
            if (value === undefined) return;
            const items = Array.isArray(value.v) ? value.v : [value.v];
            for (const item of items)
              search.append(p.name, typeof item === 'string' ? item : JSON.stringify(item));
          });
          if (search.size) url += `?${search}`;
          let call = t.http()[op.method as 'get'](url);
          if (r.caller !== 'anonymous') call = call.set(w[r.caller].auth);
          headers.forEach((p, i) => {
            const value = r.headers[i];
            if (value !== undefined && value !== null)
              call = call.set(
                p.name,
                String(value)
                  .slice(0, 500)
                  .replace(/[^\x20-\x7e]/g, '?'),
              );
          });
          if (op.body)
            call = call
              .set('content-type', 'application/json')
              .send(JSON.stringify(r.body.body ?? null));
          const res = await call.ok(() => true);
          const label = `${op.method.toUpperCase()} ${op.path} as ${r.caller} → ${res.status}`;
          if (res.status >= 500) throw new Error(`${label}: ${res.text.slice(0, 300)}`);
          if (!res.headers['x-request-id']) throw new Error(`${label}: no X-Request-Id`);
          if (res.status >= 400) {
            if (!PROBLEM.test(String(res.headers['content-type'])))
              throw new Error(`${label}: not problem+json`);
            if (res.body?.status !== res.status)
              throw new Error(`${label}: problem status ${res.body?.status}`);
          }
          const valid =
            r.body.valid &&
            r.path.every((p) => p.valid) &&
            r.query.every((q) => q === undefined || q.valid);
          if (valid && res.status === 400 && res.body?.detail === PIPE_REFUSAL) {
            throw new Error(
              `${label}: a request valid by the document was refused: ${res.text.slice(0, 400)}`,
            );
          }
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
      if (outcome.failed) {
        // The counterexample may hold 100 KB strings: say what failed, and how to replay it.
        const cause = String((outcome.errorInstance as Error)?.message ?? outcome.errorInstance);
        throw new Error(
          `${op.method.toUpperCase()} ${op.path} broke a property after ${outcome.numRuns} runs ` +
            `(FUZZ_SEED=${SEED}, fast-check path ${outcome.counterexamplePath}):\n${cause.slice(0, 1500)}`,
        );
      }
    }
    expect(await otherOrgCounts()).toEqual(before);
  }, 600_000);
});
