import { Client } from 'pg';
import { createTestApp, TestApp } from './helpers/app';
import { createOrgWorld, OrgWorld } from './helpers/orgs';
import { expectStatus } from './helpers/problems';
import { SignedInUser } from './helpers/users';
import {
  createProject,
  createTask,
  orgTasksPath,
  projectPath,
  statsPath,
  taskPath,
  tasksPath,
} from './helpers/work';

/**
 * What a hot request costs in round trips to the database, counted at the driver (every
 * trip is one `query()` of a pg client). Reads: BEGIN, the settings, the membership and
 * session check and the path's project and task go in one batch; the answer's statement
 * carries the COMMIT. A refused read still costs its one opening batch, and nothing of an
 * org the caller is not a member of comes back in it.
 */
// Counts of one PostgreSQL server: on Citus the tenant settings travel in a string of their
// own (see Transaction.beginWith), one more trip per request.
const oneServer = process.env.WORKLANE_TEST_CITUS ? describe.skip : describe;

oneServer('round trips per request', () => {
  let t: TestApp;
  let w: OrgWorld;
  let projectId: string;
  let taskId: string;
  const sent: Array<{ client: Client; text: string }> = [];
  let spy: jest.SpyInstance;

  beforeAll(async () => {
    t = await createTestApp();
    w = await createOrgWorld(t);
    projectId = await createProject(t, w.orgId, w.admin);
    taskId = (await createTask(t, w.orgId, projectId, w.member, { assigneeId: w.member.id })).id;
    const query = Client.prototype.query as (...args: unknown[]) => unknown;
    spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (
      this: Client,
      ...args: unknown[]
    ) {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string })?.text;
      if (text) sent.push({ client: this, text });
      return query.apply(this, args);
    } as never);
  });
  afterAll(async () => {
    spy.mockRestore();
    await t.close();
  });

  /**
   * The trips of `by`'s request: from the batch that opens its transaction (it names the
   * user) to the COMMIT or ROLLBACK that ends it, on that connection. Background work (the
   * job runner, the mail queue) runs on other connections, or after.
   */
  async function trips(
    path: string,
    by: SignedInUser,
    status = 200,
    patch?: Record<string, unknown>,
  ): Promise<string[]> {
    sent.length = 0;
    const res = patch
      ? await t.http().patch(path).set(by.auth).send(patch)
      : await t.http().get(path).set(by.auth);
    expectStatus(res, status);
    const first = sent.findIndex(
      ({ text }) => text.startsWith('START TRANSACTION; ') && text.includes(`'${by.id}'`),
    );
    expect(first).toBeGreaterThanOrEqual(0);
    const client = sent[first]!.client;
    const mine: string[] = [];
    for (const { client: c, text } of sent.slice(first)) {
      if (c !== client) continue;
      mine.push(text);
      if (/(^|; )(COMMIT|ROLLBACK)$/.test(text)) break;
    }
    return mine;
  }

  it.each([
    ['one task', () => taskPath(w.orgId, projectId, taskId)],
    ['a project', () => projectPath(w.orgId, projectId)],
  ])('%s: one round trip, which opens, reads and commits', async (_, path) => {
    const batches = await trips(path(), w.viewer);
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatch(/^START TRANSACTION; /);
    expect(batches[0]).toMatch(/; COMMIT$/);
  });

  it.each([
    ['the org-wide list', () => orgTasksPath(w.orgId)],
    ['my tasks', () => `${orgTasksPath(w.orgId)}?assigneeId=me`],
    ['a project list', () => tasksPath(w.orgId, projectId)],
    ['the board', () => `${projectPath(w.orgId, projectId)}/board`],
    ['the stats', () => statsPath(w.orgId)],
  ])('%s: two round trips, the first opening the transaction', async (_, path) => {
    const batches = await trips(path(), w.viewer);
    expect(batches).toHaveLength(2);
    expect(batches[0]).toMatch(/^START TRANSACTION; /);
  });

  it('one task: the opening batch reads the project and the task', async () => {
    const [opening] = await trips(taskPath(w.orgId, projectId, taskId), w.member);
    expect(opening).toMatch(/FROM projects p/);
    expect(opening).toMatch(/FROM tasks t/);
  });

  it('a non-member: one batch, then 404, and the path reads answer only for members', async () => {
    const batches = await trips(`${projectPath(w.orgId, projectId)}/board`, w.outsider, 404);
    expect(batches).toHaveLength(2); // the opening batch, then ROLLBACK
    expect(batches[0]).toMatch(/EXISTS \(SELECT 1 FROM memberships m WHERE m\.org_id = /);
    expect(batches[1]).toBe('ROLLBACK');
    // A read answered by its opening batch has committed it (it read, changed nothing).
    const one = await trips(taskPath(w.orgId, projectId, taskId), w.outsider, 404);
    expect(one).toHaveLength(1);
  });

  it('a change: the opening batch locks the project and the task, for a role the route admits only', async () => {
    const path = taskPath(w.orgId, projectId, taskId);
    const [opening] = await trips(path, w.member, 200, { title: 'Renamed' });
    expect(opening).toMatch(/FROM projects p .*FOR SHARE/s);
    expect(opening).toMatch(/FROM tasks t .*FOR UPDATE/s);
    expect(opening).toMatch(/m\.role IN \('owner', 'admin', 'member'\)/);
    // A viewer is refused (403) and the transaction rolled back; the role condition above
    // kept their batch from reading or locking the project and the task.
    const refused = await trips(path, w.viewer, 403, { title: 'Nope' });
    expect(refused.at(-1)).toBe('ROLLBACK');
  });
});
