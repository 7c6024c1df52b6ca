import { api, createTestApp, listenOnLoopback, TestApp } from './helpers/app';
import { createOrgWorld, OrgWorld } from './helpers/orgs';
import { expectProblem, expectStatus } from './helpers/problems';
import { openStream, SseStream } from './helpers/sse';
import { registerUser, SignedInUser } from './helpers/users';
import { createProject, createTask, taskPath } from './helpers/work';

/**
 * The org event stream (SSE) end to end over real sockets: isolation, resume without gap
 * or repeat, role filtering, removal, tickets — and, on a server, two instances.
 */
const onServer = process.env.WORKLANE_TEST_SERVER_URL ? it : it.skip;
const ENV = { EVENTS_HEARTBEAT_MS: '300' };

describe('GET /orgs/:orgId/events', () => {
  let t: TestApp;
  let base: string;
  let w: OrgWorld;
  let projectId: string;
  let otherProjectId: string;
  const open: SseStream[] = [];

  beforeAll(async () => {
    t = await createTestApp({ env: ENV });
    ({ base } = await listenOnLoopback(t));
    w = await createOrgWorld(t);
    projectId = await createProject(t, w.orgId, w.owner);
    otherProjectId = await createProject(t, w.otherOrgId, w.stranger);
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });
  afterAll(() => t?.close());

  const eventsUrl = (orgId: string, query = '') => `${base}${api(`/orgs/${orgId}/events`)}${query}`;
  async function follow(
    user: SignedInUser | null,
    orgId = w.orgId,
    options: { query?: string; headers?: Record<string, string> } = {},
  ): Promise<SseStream> {
    const stream = await openStream(eventsUrl(orgId, options.query), {
      ...(user ? user.auth : {}),
      ...options.headers,
    });
    open.push(stream);
    return stream;
  }
  const types = (s: SseStream) => s.messages.map((m) => m.event);
  const ids = (s: SseStream) => s.messages.map((m) => Number(m.id));

  it('streams an org’s events to every role, with the resource, the actor and the time', async () => {
    const streams = await Promise.all([w.owner, w.admin, w.member, w.viewer].map((u) => follow(u)));
    for (const s of streams) {
      expect(s.status).toBe(200);
      expect(s.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(s.headers['x-request-id']).toBeTruthy();
    }
    const task = await createTask(t, w.orgId, projectId, w.member, { title: 'Live' });
    for (const s of streams) {
      await s.waitFor((x) => x.messages.some((m) => m.event === 'task.created'));
      const message = s.messages.find((m) => m.event === 'task.created')!;
      expect(Number(message.id)).toBe(message.json.position);
      expect(message.json).toMatchObject({
        type: 'task.created',
        orgId: w.orgId,
        actor: { id: w.member.id },
        target: { type: 'task', id: task.id },
        resource: { id: task.id, title: 'Live', version: task.version },
      });
      expect(Date.parse(message.json.occurredAt)).not.toBeNaN();
    }
  });

  it('never shows one org’s events on another org’s stream', async () => {
    const mine = await follow(w.owner);
    const theirs = await follow(w.stranger, w.otherOrgId);
    await createTask(t, w.orgId, projectId, w.owner, { title: 'Mine' });
    await createTask(t, w.otherOrgId, otherProjectId, w.stranger, { title: 'Theirs' });
    await mine.waitFor((s) => s.messages.length >= 1);
    await theirs.waitFor((s) => s.messages.length >= 1);
    // One more each, so that a leaked event would have had time to arrive.
    await createTask(t, w.orgId, projectId, w.owner, { title: 'Mine 2' });
    await createTask(t, w.otherOrgId, otherProjectId, w.stranger, { title: 'Theirs 2' });
    await mine.waitFor((s) => s.messages.length >= 2);
    await theirs.waitFor((s) => s.messages.length >= 2);
    expect(mine.messages.every((m) => m.json.orgId === w.orgId)).toBe(true);
    expect(theirs.messages.every((m) => m.json.orgId === w.otherOrgId)).toBe(true);
    expect(mine.messages.map((m) => m.json.resource.title)).toEqual(['Mine', 'Mine 2']);
  });

  it('resumes after a disconnect with exactly the events it missed, then goes on live', async () => {
    const first = await follow(w.member);
    for (const title of ['a', 'b', 'c'])
      await createTask(t, w.orgId, projectId, w.member, { title });
    await first.waitFor((s) => s.messages.length === 3);
    const seen = ids(first);
    expect(seen).toEqual([seen[0], seen[0]! + 1, seen[0]! + 2]);
    first.close();

    for (const title of ['d', 'e']) await createTask(t, w.orgId, projectId, w.member, { title });
    const again = await follow(w.member, w.orgId, {
      headers: { 'Last-Event-ID': String(seen[2]) },
      query: `?after=${seen[0]}`, // the header wins: a browser keeps the URL it started with
    });
    await again.waitFor((s) => s.messages.length === 2);
    await createTask(t, w.orgId, projectId, w.member, { title: 'f' });
    await again.waitFor((s) => s.messages.length === 3);
    expect(again.messages.map((m) => m.json.resource.title)).toEqual(['d', 'e', 'f']);
    expect(ids(again)).toEqual([seen[2]! + 1, seen[2]! + 2, seen[2]! + 3]);

    const byQuery = await follow(w.member, w.orgId, { query: `?after=${seen[1]}` });
    await byQuery.waitFor((s) => s.messages.length === 4);
    expect(byQuery.messages.map((m) => m.json.resource.title)).toEqual(['c', 'd', 'e', 'f']);
  });

  it('keeps order and loses nothing while events are written during the replay', async () => {
    const start = await follow(w.owner);
    await createTask(t, w.orgId, projectId, w.owner, { title: 'anchor' });
    await start.waitFor((s) => s.messages.length === 1);
    const anchor = Number(start.messages[0]!.id);
    start.close();
    const writes = Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        createTask(t, w.orgId, projectId, w.admin, { title: `burst ${i}` }),
      ),
    );
    const resumed = await follow(w.owner, w.orgId, { query: `?after=${anchor}` });
    await writes;
    await resumed.waitFor((s) => s.messages.length >= 15);
    const got = ids(resumed);
    expect(got).toEqual(got.map((_, i) => anchor + 1 + i));
    expect(new Set(resumed.messages.map((m) => m.json.resource.title)).size).toBe(15);
  });

  it('answers 410 for a position older than the events kept, 400 for one past the end', async () => {
    const s = await follow(w.owner);
    await createTask(t, w.orgId, projectId, w.owner, { title: 'to prune' });
    await s.waitFor((x) => x.messages.length === 1);
    const position = Number(s.messages[0]!.id);
    // What retention does to old events.
    await t.dataSource.query(`DELETE FROM outbox_events WHERE org_id = $1 AND position <= $2`, [
      w.orgId,
      position,
    ]);
    const gone = await follow(w.owner, w.orgId, { query: `?after=${position - 1}` });
    expect(gone.status).toBe(410);
    expect(gone.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(JSON.parse(gone.body!)).toMatchObject({ status: 410 });
    const fine = await follow(w.owner, w.orgId, { query: `?after=${position}` });
    expect(fine.status).toBe(200);
    const future = await follow(w.owner, w.orgId, { headers: { 'Last-Event-ID': '999999999' } });
    expect(future.status).toBe(400);
    expect(JSON.parse(future.body!).errors).toEqual([
      expect.objectContaining({ field: 'Last-Event-ID' }),
    ]);
    const bad = await follow(w.owner, w.orgId, { query: '?after=-3' });
    expect(bad.status).toBe(400);
  });

  it('shows member and invite events to owners and admins only, and never a token', async () => {
    const [admin, member, viewer] = await Promise.all(
      [w.admin, w.member, w.viewer].map((u) => follow(u)),
    );
    const invite = await t
      .http()
      .post(api(`/orgs/${w.orgId}/invites`))
      .set(w.owner.auth)
      .send({ role: 'member', maxUses: 3 });
    expectStatus(invite, 201);
    await createTask(t, w.orgId, projectId, w.owner, { title: 'after the invite' });
    for (const s of [admin, member, viewer]) {
      await s.waitFor((x) => x.messages.some((m) => m.event === 'task.created'));
    }
    expect(types(admin)).toEqual(['invite.created', 'task.created']);
    expect(types(member)).toEqual(['task.created']);
    expect(types(viewer)).toEqual(['task.created']);
    const everything = JSON.stringify(admin.messages);
    expect(everything).not.toContain(invite.body.token);
  });

  it('applies a role change to the filter at once, and closes a removed member’s stream', async () => {
    const [alice, bob] = await Promise.all([registerUser(t), registerUser(t)]);
    await t.dataSource.query(
      `INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'admin'), ($1, $3, 'member')`,
      [w.orgId, alice.id, bob.id],
    );
    const aliceStream = await follow(alice);
    const bobStream = await follow(bob);
    expectStatus(
      await t
        .http()
        .patch(api(`/orgs/${w.orgId}/members/${alice.id}`))
        .set(w.owner.auth)
        .send({ role: 'viewer' }),
      200,
    );
    expectStatus(
      await t
        .http()
        .post(api(`/orgs/${w.orgId}/invites`))
        .set(w.owner.auth)
        .send({ role: 'viewer', maxUses: 1 }),
      201,
    );
    expectStatus(
      await t
        .http()
        .delete(api(`/orgs/${w.orgId}/members/${bob.id}`))
        .set(w.owner.auth),
      204,
    );
    await bobStream.ended;
    await createTask(t, w.orgId, projectId, w.owner, { title: 'after the changes' });
    await aliceStream.waitFor((s) => s.messages.some((m) => m.event === 'task.created'));
    // Alice is a viewer from her demotion on: neither it nor the invite reaches her.
    expect(types(aliceStream)).toEqual(['task.created']);
    expect(bobStream.isEnded()).toBe(true);
    expect(types(bobStream)).not.toContain('member.removed');
  });

  it('sends a heartbeat comment while nothing happens', async () => {
    const s = await follow(w.viewer);
    await s.waitFor((x) => x.comments.filter((c) => c === 'heartbeat').length >= 2, 5000);
  });

  it('ends a stream whose session has been signed out, within a heartbeat', async () => {
    const user = await registerUser(t);
    await t.dataSource.query(
      `INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'member')`,
      [w.orgId, user.id],
    );
    const s = await follow(user);
    expectStatus(await t.http().post(api('/auth/logout-all')).set(user.auth), 204);
    await s.ended;
  });

  describe('who may follow', () => {
    it('answers 401 to an anonymous caller, 404 to a non-member and to another org’s member', async () => {
      const anonymous = await follow(null);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers['content-type']).toMatch(/problem\+json/);
      const outsider = await follow(w.outsider);
      const stranger = await follow(w.stranger);
      const nowhere = await follow(w.owner, '6a1d8f62-1d55-4b35-9a9b-3c0e3c1c9b0e');
      for (const s of [outsider, stranger, nowhere]) expect(s.status).toBe(404);
      // The same answer as for an org that does not exist: nothing to learn.
      const shape = (s: SseStream) => {
        const { instance: _i, ...rest } = JSON.parse(s.body!);
        return rest;
      };
      expect(shape(outsider)).toEqual(shape(nowhere));
      expect(shape(stranger)).toEqual(shape(nowhere));
    });
  });

  describe('tickets for EventSource', () => {
    const ticketFor = async (user: SignedInUser, orgId = w.orgId) => {
      const res = await t
        .http()
        .post(api(`/orgs/${orgId}/events/ticket`))
        .set(user.auth);
      expectStatus(res, 201);
      expect(res.body.ticket).toMatch(/^[\w-]{43}$/);
      expect(Date.parse(res.body.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);
      return res.body.ticket as string;
    };

    it('opens the stream once with a ticket instead of a token; a second use is 401', async () => {
      const ticket = await ticketFor(w.viewer);
      const s = await follow(null, w.orgId, { query: `?ticket=${ticket}` });
      expect(s.status).toBe(200);
      await createTask(t, w.orgId, projectId, w.owner, { title: 'via ticket' });
      await s.waitFor((x) => x.messages.some((m) => m.event === 'task.created'));
      const reused = await follow(null, w.orgId, { query: `?ticket=${ticket}` });
      expect(reused.status).toBe(401);
      expect(reused.headers['content-type']).toMatch(/problem\+json/);
    });

    it('refuses an expired ticket, another org’s ticket and a made-up one with 401', async () => {
      const expired = await ticketFor(w.member);
      await t.dataSource.query(
        `UPDATE event_stream_tickets SET expires_at = now() - interval '1 second' WHERE org_id = $1`,
        [w.orgId],
      );
      expect((await follow(null, w.orgId, { query: `?ticket=${expired}` })).status).toBe(401);
      const foreign = await ticketFor(w.stranger, w.otherOrgId);
      expect((await follow(null, w.orgId, { query: `?ticket=${foreign}` })).status).toBe(401);
      expect((await follow(null, w.orgId, { query: `?ticket=${'x'.repeat(43)}` })).status).toBe(
        401,
      );
    });

    it('answers the ticket route 404 to outsiders and 401 to anonymous callers', async () => {
      expectProblem(
        await t
          .http()
          .post(api(`/orgs/${w.orgId}/events/ticket`))
          .set(w.outsider.auth),
        404,
      );
      expectProblem(
        await t
          .http()
          .post(api(`/orgs/${w.orgId}/events/ticket`))
          .set(w.stranger.auth),
        404,
      );
      expectProblem(await t.http().post(api(`/orgs/${w.orgId}/events/ticket`)), 401);
    });

    it('ends the ticket’s stream when its member is removed, like any other', async () => {
      const user = await registerUser(t);
      await t.dataSource.query(
        `INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'viewer')`,
        [w.orgId, user.id],
      );
      const s = await follow(null, w.orgId, { query: `?ticket=${await ticketFor(user)}` });
      expect(s.status).toBe(200);
      expectStatus(
        await t
          .http()
          .delete(api(`/orgs/${w.orgId}/members/${user.id}`))
          .set(w.owner.auth),
        204,
      );
      await s.ended;
    });
  });

  describe('two instances on one database', () => {
    onServer('an event made on one instance reaches a stream on the other, in order', async () => {
      const other = await createTestApp({ env: ENV });
      try {
        const { base: otherBase } = await listenOnLoopback(other);
        const s = await openStream(`${otherBase}${api(`/orgs/${w.orgId}/events`)}`, w.member.auth);
        open.push(s);
        expect(s.status).toBe(200);
        const made = [];
        for (let i = 0; i < 5; i++)
          made.push(await createTask(t, w.orgId, projectId, w.member, { title: `x${i}` }));
        await s.waitFor((x) => x.messages.length === 5);
        expect(s.messages.map((m) => m.json.resource.id)).toEqual(made.map((task) => task.id));
      } finally {
        await other.close();
      }
    });

    onServer('catches up from the log after its listening connection was cut', async () => {
      const other = await createTestApp({ env: ENV });
      try {
        const { base: otherBase } = await listenOnLoopback(other);
        const s = await openStream(`${otherBase}${api(`/orgs/${w.orgId}/events`)}`, w.owner.auth);
        open.push(s);
        await createTask(t, w.orgId, projectId, w.owner, { title: 'before the cut' });
        await s.waitFor((x) => x.messages.length === 1);
        // Every listening connection of the run's database goes, as in a network fault.
        await t.dataSource.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE application_name = 'worklane-events' AND datname = current_database()`,
        );
        await createTask(t, w.orgId, projectId, w.owner, { title: 'during the cut' });
        await s.waitFor((x) => x.messages.length === 2, 15_000);
        await createTask(t, w.orgId, projectId, w.owner, { title: 'after the cut' });
        await s.waitFor((x) => x.messages.length === 3, 15_000);
        expect(s.messages.map((m) => m.json.resource.title)).toEqual([
          'before the cut',
          'during the cut',
          'after the cut',
        ]);
      } finally {
        await other.close();
      }
    });
  });

  it('updates and deletions reach the stream with what changed', async () => {
    const s = await follow(w.owner);
    const task = await createTask(t, w.orgId, projectId, w.owner, { title: 'to change' });
    expectStatus(
      await t
        .http()
        .patch(taskPath(w.orgId, projectId, task.id))
        .set(w.owner.auth)
        .send({ status: 'done' }),
      200,
    );
    expectStatus(
      await t
        .http()
        .delete(taskPath(w.orgId, projectId, task.id))
        .set(w.owner.auth),
      204,
    );
    await s.waitFor((x) => x.messages.some((m) => m.event === 'task.deleted'));
    expect(types(s)).toEqual(['task.created', 'task.status_changed', 'task.deleted']);
    expect(s.messages[1]!.json.details).toMatchObject({
      before: { status: 'todo' },
      after: { status: 'done' },
    });
    expect(s.messages[1]!.json.resource).toMatchObject({ id: task.id, status: 'done' });
  });
});
