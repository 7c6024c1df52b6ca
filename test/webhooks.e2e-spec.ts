import { randomBytes } from 'node:crypto';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { UnitOfWork } from '../src/shared/database/unit-of-work';
import { EventBus } from '../src/shared/events/event-bus';
import { Jobs } from '../src/shared/jobs/jobs';
import { DELIVERY_PRUNE_JOB } from '../src/webhooks/webhook-delivery-retention';
import { ProjectCreated } from '../src/projects/project.events';
import { api, createTestApp, TestApp } from './helpers/app';
import { createOrgWorld, OrgWorld } from './helpers/orgs';
import { expectProblem, expectStatus, fieldsOf } from './helpers/problems';
import { registerUser, SignedInUser } from './helpers/users';
import { countRows, createProject, createTask, postProject } from './helpers/work';

/**
 * Outgoing webhooks end to end: a real receiver (node:http on loopback) gets the app's
 * deliveries and verifies them with the reference `standardwebhooks` library.
 *
 * Settings are read when an app module first loads, so apps with other settings (an
 * API-only instance, production mode) load the app in an isolated module registry. Each
 * setting of a queue name keeps this file's deliveries away from other files' apps, which
 * share the database and run workers with the default (slow) retry schedule.
 */

const RUN = randomBytes(4).toString('hex');
const QUEUE = `webhooks.deliver-${RUN}`;
const ENV = {
  WORKERS: '1',
  JOBS_POLL_INTERVAL_MS: '500',
  WEBHOOK_RETRY_SCHEDULE: '1,1,1',
  WEBHOOK_TIMEOUT_MS: '3000',
  WEBHOOK_QUEUE: QUEUE,
};

const webhooksPath = (orgId: string) => api(`/orgs/${orgId}/webhooks`);
const webhookPath = (orgId: string, id: string) => `${webhooksPath(orgId)}/${id}`;
const deliveriesPath = (orgId: string, id: string) => `${webhookPath(orgId, id)}/deliveries`;
const redeliverPath = (orgId: string, id: string, deliveryId: string) =>
  `${deliveriesPath(orgId, id)}/${deliveryId}/redeliver`;

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on loopback; `answer(n)` is the status of its n-th request (1-based). */
class Receiver {
  readonly requests: Received[] = [];
  answer: (n: number) => number = () => 200;
  /** Sent as `Location` with every answer, when set. */
  redirectTo?: string;
  url = '';
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = this.answer(this.requests.length);
      if (this.redirectTo) res.setHeader('location', this.redirectTo);
      res.end(res.statusCode < 300 ? 'thanks' : 'not today');
    });
  });

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const receivers: Receiver[] = [];
const receiver = async (answer?: (n: number) => number) => {
  const r = await new Receiver().start();
  if (answer) r.answer = answer;
  receivers.push(r);
  return r;
};

/** Waits for a condition the workers bring about (bounded polling, not a timing assertion). */
async function eventually<T>(
  probe: () => Promise<T> | T,
  ok: (value: T) => boolean = Boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Headers as `standardwebhooks` takes them. */
const signedHeaders = (r: Received) => ({
  'webhook-id': String(r.headers['webhook-id']),
  'webhook-timestamp': String(r.headers['webhook-timestamp']),
  'webhook-signature': String(r.headers['webhook-signature']),
});

/** An app with other settings than this file's first one (see the file comment). */
async function isolatedApp(env: Record<string, string>): Promise<TestApp> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  let app: TestApp | undefined;
  try {
    await jest.isolateModulesAsync(async () => {
      const helpers = await import('./helpers/app');
      app = await helpers.createTestApp({ env });
    });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  return app!;
}

const onServer = process.env.WORKLANE_TEST_SERVER_URL ? it : it.skip;

describe('webhooks', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: ENV });
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all(receivers.map((r) => r.stop()));
  });

  async function createWebhook(
    world: { orgId: string; owner: SignedInUser },
    body: Record<string, unknown>,
    app: TestApp = t,
  ): Promise<{ id: string; secret: string } & Record<string, any>> {
    const res = await app.http().post(webhooksPath(world.orgId)).set(world.owner.auth).send(body);
    expectStatus(res, 201);
    return res.body;
  }

  async function deliveriesOf(
    world: OrgWorld | { orgId: string; owner: SignedInUser },
    id: string,
  ) {
    const res = await t
      .http()
      .get(deliveriesPath(world.orgId, id))
      .query({ limit: 100 })
      .set(world.owner.auth);
    expectStatus(res, 200);
    return res.body.data as Array<Record<string, any>>;
  }

  const webhookInDb = async (id: string) =>
    (
      await t.dataSource.query(
        `SELECT url, enabled, secret, description, events FROM webhooks WHERE id = $1`,
        [id],
      )
    )[0] as { url: string; enabled: boolean; secret: string } | undefined;

  /** A finished delivery of the webhook, written as the table owner. */
  async function failedDelivery(orgId: string, webhookId: string): Promise<string> {
    const [{ id }] = await t.dataSource.query(
      `INSERT INTO webhook_deliveries (org_id, webhook_id, event_type, event_position, body, status)
       VALUES ($1, $2, 'task.created', 1, '{}', 'failed') RETURNING id`,
      [orgId, webhookId],
    );
    return id;
  }

  /**
   * Who may manage webhooks is the permission matrix's (test/permissions/matrix.ts); here,
   * what an allowed call does.
   */
  describe('what an allowed call does', () => {
    it('POST creates the webhook and shows its secret once', async () => {
      const world = await createOrgWorld(t);
      const sink = await receiver();
      const res = await t
        .http()
        .post(webhooksPath(world.orgId))
        .set(world.admin.auth)
        .send({ url: sink.url });
      expectStatus(res, 201);
      expect(res.body.secret).toMatch(/^whsec_/);
      expect(await countRows(t, `webhooks WHERE org_id = $1`, [world.orgId])).toBe(1);
    });

    describe('reads', () => {
      let world: OrgWorld;
      let hook: Record<string, any>;
      beforeAll(async () => {
        world = await createOrgWorld(t);
        const { secret: _secret, ...shown } = await createWebhook(world, {
          url: (await receiver()).url,
          description: 'readable',
        });
        hook = shown;
      });

      it('GET /orgs/:orgId/webhooks lists it, without its secret', async () => {
        const res = await t.http().get(webhooksPath(world.orgId)).set(world.admin.auth);
        expectStatus(res, 200);
        expect(res.body).toEqual({ data: [hook], nextCursor: null });
      });

      it('GET /orgs/:orgId/webhooks/:webhookId reads it, without its secret', async () => {
        const res = await t.http().get(webhookPath(world.orgId, hook.id)).set(world.admin.auth);
        expectStatus(res, 200);
        expect(res.body).toEqual(hook);
      });

      it('GET /orgs/:orgId/webhooks/:webhookId/deliveries lists none yet', async () => {
        const res = await t.http().get(deliveriesPath(world.orgId, hook.id)).set(world.admin.auth);
        expectStatus(res, 200);
        expect(res.body).toEqual({ data: [], nextCursor: null });
      });
    });

    it('PATCH changes the webhook; disabling it says by whom', async () => {
      const world = await createOrgWorld(t);
      const hook = await createWebhook(world, { url: (await receiver()).url });
      const res = await t
        .http()
        .patch(webhookPath(world.orgId, hook.id))
        .set(world.owner.auth)
        .send({ description: 'changed', enabled: false });
      expectStatus(res, 200);
      expect(res.body).toMatchObject({
        description: 'changed',
        enabled: false,
        disabledReason: 'disabled by a user',
      });
      expect(await webhookInDb(hook.id)).toMatchObject({ description: 'changed', enabled: false });
    });

    it('DELETE removes the webhook', async () => {
      const world = await createOrgWorld(t);
      const hook = await createWebhook(world, { url: (await receiver()).url });
      const res = await t.http().delete(webhookPath(world.orgId, hook.id)).set(world.owner.auth);
      expectStatus(res, 204);
      expect(await webhookInDb(hook.id)).toBeUndefined();
    });

    it('POST …/rotate-secret replaces the secret', async () => {
      const world = await createOrgWorld(t);
      const hook = await createWebhook(world, { url: (await receiver()).url });
      const res = await t
        .http()
        .post(`${webhookPath(world.orgId, hook.id)}/rotate-secret`)
        .set(world.owner.auth);
      expectStatus(res, 200);
      expect(res.body.secret).not.toBe(hook.secret);
      expect((await webhookInDb(hook.id))!.secret).toBe(res.body.secret);
    });

    it('POST …/redeliver queues the delivery again, and it is sent', async () => {
      const world = await createOrgWorld(t);
      const sink = await receiver();
      const hook = await createWebhook(world, { url: sink.url });
      const deliveryId = await failedDelivery(world.orgId, hook.id);
      const res = await t
        .http()
        .post(redeliverPath(world.orgId, hook.id, deliveryId))
        .set(world.owner.auth);
      expectStatus(res, 202);
      expect(res.body).toMatchObject({ id: deliveryId, status: 'pending' });
      await eventually(() => sink.requests.length === 1);
      expect(sink.requests).toHaveLength(1);
    });

    it('answers 404 for unknown and malformed webhook and delivery ids, and for another org’s', async () => {
      const world = await createOrgWorld(t);
      const hook = await createWebhook(world, { url: (await receiver()).url });
      const unknown = '00000000-0000-4000-8000-000000000000';
      const deliveryId = await failedDelivery(world.orgId, hook.id);
      for (const path of [
        webhookPath(world.orgId, unknown),
        webhookPath(world.orgId, 'not-a-uuid'),
        deliveriesPath(world.orgId, unknown),
        webhookPath(world.otherOrgId, hook.id),
      ]) {
        expectProblem(await t.http().get(path).set(world.owner.auth), 404);
      }
      expectProblem(
        await t
          .http()
          .post(redeliverPath(world.orgId, hook.id, unknown))
          .set(world.owner.auth),
        404,
      );
      expectProblem(
        await t
          .http()
          .post(redeliverPath(world.orgId, unknown, deliveryId))
          .set(world.owner.auth),
        404,
      );
      // The stranger owns the other org, but this webhook is not in it.
      expectProblem(
        await t
          .http()
          .patch(webhookPath(world.otherOrgId, hook.id))
          .set(world.stranger.auth)
          .send({ enabled: false }),
        404,
      );
      expect((await webhookInDb(hook.id))!.enabled).toBe(true);
    });
  });

  describe('endpoints', () => {
    let world: OrgWorld;
    beforeAll(async () => {
      world = await createOrgWorld(t);
    });

    it('shows the secret once, at creation; never in reads, updates, events or the audit log', async () => {
      const sink = await receiver();
      const created = await createWebhook(world, {
        url: sink.url,
        events: ['task.created', 'project.*'],
        description: 'CI notifications',
      });
      expect(created).toEqual({
        id: expect.any(String),
        orgId: world.orgId,
        url: sink.url,
        events: ['task.created', 'project.*'],
        description: 'CI notifications',
        enabled: true,
        disabledReason: null,
        disabledAt: null,
        previousSecretExpiresAt: null,
        createdBy: world.owner.id,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      });
      expect(Buffer.from(created.secret.slice(6), 'base64')).toHaveLength(32);

      const got = await t.http().get(webhookPath(world.orgId, created.id)).set(world.admin.auth);
      const patched = await t
        .http()
        .patch(webhookPath(world.orgId, created.id))
        .set(world.owner.auth)
        .send({ url: `${sink.url}?v=2`, events: [] });
      expectStatus(patched, 200);
      expect(patched.body).toMatchObject({ url: `${sink.url}?v=2`, events: [] });
      const rotated = await t
        .http()
        .post(`${webhookPath(world.orgId, created.id)}/rotate-secret`)
        .set(world.owner.auth);
      expectStatus(rotated, 200);
      expect(rotated.body).toEqual({
        secret: expect.stringMatching(/^whsec_/),
        previousSecretExpiresAt: expect.any(String),
      });
      const overlap = new Date(rotated.body.previousSecretExpiresAt).getTime() - Date.now();
      expect(overlap).toBeGreaterThan(23.9 * 3600_000);
      expect(overlap).toBeLessThanOrEqual(24 * 3600_000);
      const list = await t.http().get(webhooksPath(world.orgId)).set(world.owner.auth);
      for (const answer of [got.text, patched.text, list.text]) {
        expect(answer).not.toContain(created.secret);
        expect(answer).not.toContain(rotated.body.secret);
        expect(answer).not.toContain('secret"');
      }

      const audit = await t
        .http()
        .get(api(`/orgs/${world.orgId}/audit-log`))
        .query({ targetId: created.id, limit: 100 })
        .set(world.owner.auth);
      expectStatus(audit, 200);
      expect(audit.body.data.map((e: { action: string }) => e.action).sort()).toEqual([
        'webhook.created',
        'webhook.secret_rotated',
        'webhook.updated',
      ]);
      const stored = JSON.stringify(
        await t.dataSource.query(
          `SELECT payload FROM outbox_events WHERE org_id = $1
           UNION ALL SELECT metadata FROM audit_log WHERE org_id = $1`,
          [world.orgId],
        ),
      );
      expect(stored).toContain(created.id);
      expect(stored).not.toContain(created.secret.slice(6));
      expect(stored).not.toContain(rotated.body.secret.slice(6));

      const deleted = await t
        .http()
        .delete(webhookPath(world.orgId, created.id))
        .set(world.owner.auth);
      expectStatus(deleted, 204);
      expectProblem(
        await t.http().get(webhookPath(world.orgId, created.id)).set(world.owner.auth),
        404,
      );
    });

    it('pages the list oldest first', async () => {
      const own = await createOrgWorld(t);
      const sink = await receiver();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await createWebhook(own, { url: sink.url })).id);
      const first = await t
        .http()
        .get(webhooksPath(own.orgId))
        .query({ limit: 2 })
        .set(own.owner.auth);
      expectStatus(first, 200);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const second = await t
        .http()
        .get(webhooksPath(own.orgId))
        .query({ limit: 2, cursor: first.body.nextCursor })
        .set(own.owner.auth);
      expect(second.body.nextCursor).toBeNull();
      expect([...first.body.data, ...second.body.data].map((w: { id: string }) => w.id)).toEqual(
        ids,
      );
    });

    it.each([
      ['an ftp URL', { url: 'ftp://example.com/hooks' }, 'url'],
      ['a file URL', { url: 'file:///etc/passwd' }, 'url'],
      ['credentials in the URL', { url: 'https://user:pw@example.com/hooks' }, 'url'],
      ['no URL', {}, 'url'],
      ['a relative URL', { url: '/hooks' }, 'url'],
      ['the cloud metadata address', { url: 'http://169.254.169.254/latest' }, 'url'],
      [
        'an unknown event type',
        { url: 'https://example.com/h', events: ['task.exploded'] },
        'events',
      ],
      [
        'a webhook.* event type',
        { url: 'https://example.com/h', events: ['webhook.created'] },
        'events',
      ],
      ['events not a list', { url: 'https://example.com/h', events: 'task.created' }, 'events'],
      ['an unknown field', { url: 'https://example.com/h', secret: 'whsec_mine' }, 'secret'],
      ['a non-boolean enabled', { url: 'https://example.com/h', enabled: 'yes' }, 'enabled'],
    ])('POST refuses %s with 400 naming the field', async (_label, body, field) => {
      const before = await countRows(t, `webhooks WHERE org_id = $1`, [world.orgId]);
      const res = await t.http().post(webhooksPath(world.orgId)).set(world.owner.auth).send(body);
      expectProblem(res, 400);
      expect(fieldsOf(res)).toEqual([field]);
      expect(await countRows(t, `webhooks WHERE org_id = $1`, [world.orgId])).toBe(before);
    });

    it.each([
      ['an ftp URL', { url: 'ftp://example.com/hooks' }, 'url'],
      ['an unknown event type', { events: ['nope.*'] }, 'events'],
      ['an unknown field', { orgId: '00000000-0000-4000-8000-000000000000' }, 'orgId'],
      ['a null URL', { url: null }, 'url'],
    ])('PATCH refuses %s with 400 naming the field, changing nothing', async (_l, body, field) => {
      const sink = await receiver();
      const hook = await createWebhook(world, { url: sink.url });
      const res = await t
        .http()
        .patch(webhookPath(world.orgId, hook.id))
        .set(world.owner.auth)
        .send(body);
      expectProblem(res, 400);
      expect(fieldsOf(res)).toEqual([field]);
      expect(await webhookInDb(hook.id)).toMatchObject({ url: sink.url, events: [] });
    });
  });

  describe('deliveries', () => {
    let world: OrgWorld;
    let projectId: string;
    beforeAll(async () => {
      world = await createOrgWorld(t);
      projectId = await createProject(t, world.orgId, world.owner);
    });

    /** Only this test's webhook listens: the others of the org are deleted first. */
    async function soleWebhook(body: Record<string, unknown>) {
      await t.dataSource.query(`DELETE FROM webhooks WHERE org_id = $1`, [world.orgId]);
      return createWebhook(world, body);
    }

    it('signs a task change so that standardwebhooks verifies it; a tampered body does not', async () => {
      const sink = await receiver();
      const hook = await soleWebhook({ url: sink.url, events: ['task.created'] });
      const task = await createTask(t, world.orgId, projectId, world.member, { title: 'Ship it' });
      await eventually(() => sink.requests.length >= 1);
      expect(sink.requests).toHaveLength(1);
      const [got] = sink.requests;

      const wh = new Webhook(hook.secret);
      const payload = wh.verify(got!.body, signedHeaders(got!)) as Record<string, any>;
      expect(() =>
        wh.verify(got!.body.replace('Ship it', 'Ship that'), signedHeaders(got!)),
      ).toThrow(/signature/i);
      expect(() =>
        new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(
          got!.body,
          signedHeaders(got!),
        ),
      ).toThrow();

      expect(got!.headers['content-type']).toBe('application/json');
      expect(got!.headers['user-agent']).toMatch(/Worklane/);
      expect(got!.headers['webhook-id']).toMatch(/^msg_[0-9a-f-]{36}$/);
      expect(Number(got!.headers['webhook-timestamp'])).toBeGreaterThan(Date.now() / 1000 - 60);
      expect(got!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(payload).toEqual({
        type: 'task.created',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
        data: expect.objectContaining({
          type: 'task.created',
          orgId: world.orgId,
          position: expect.any(Number),
          actor: { id: world.member.id },
          target: { type: 'task', id: task.id },
          details: expect.objectContaining({ projectId }),
        }),
      });
      expect(payload.timestamp).toBe(payload.data.occurredAt);

      const deliveries = await eventually(
        () => deliveriesOf(world, hook.id),
        (d) => d[0]?.status === 'succeeded',
      );
      expect(deliveries).toEqual([
        {
          id: expect.any(String),
          webhookId: hook.id,
          messageId: got!.headers['webhook-id'],
          eventType: 'task.created',
          eventPosition: payload.data.position,
          status: 'succeeded',
          attempts: [
            { at: expect.any(String), httpStatus: 200, latencyMs: expect.any(Number), error: null },
          ],
          nextAttemptAt: null,
          createdAt: expect.any(String),
        },
      ]);
    });

    it('delivers only the subscribed types (families too); an empty list takes all', async () => {
      const sink = await receiver();
      const hook = await soleWebhook({ url: sink.url, events: ['project.*'] });
      const count = () => countRows(t, `webhook_deliveries WHERE webhook_id = $1`, [hook.id]);
      // Deliveries are written with the change: counting right after the answer is exact.
      await createTask(t, world.orgId, projectId, world.owner);
      expect(await count()).toBe(0);
      await postProject(t, world.orgId, world.owner);
      expect(await count()).toBe(1);
      const all = await t
        .http()
        .patch(webhookPath(world.orgId, hook.id))
        .set(world.owner.auth)
        .send({ events: [] });
      expectStatus(all, 200);
      // Changing the webhook itself is audited, never delivered.
      expect(await count()).toBe(1);
      await createTask(t, world.orgId, projectId, world.owner);
      expect(await count()).toBe(2);
      await eventually(() => sink.requests.length >= 2);
      expect(sink.requests.map((r) => JSON.parse(r.body).type).sort()).toEqual([
        'project.created',
        'task.created',
      ]);
    });

    it('leaves no delivery and no job behind a change that rolled back', async () => {
      const sink = await receiver();
      const hook = await soleWebhook({ url: sink.url });
      const jobsOfOrg = () =>
        countRows(t, `pgboss.job WHERE name = $1 AND data->'payload'->>'orgId' = $2`, [
          QUEUE,
          world.orgId,
        ]);
      const jobsBefore = await jobsOfOrg();
      const uow = t.app.get(UnitOfWork);
      const bus = t.app.get(EventBus);
      await expect(
        uow.transaction({ role: 'worklane_app', orgId: world.orgId }, async () => {
          await bus.publish(
            new ProjectCreated(world.orgId, world.owner.id, projectId, {
              name: 'never',
              description: null,
              archived: false,
            }),
          );
          throw new Error('the change failed');
        }),
      ).rejects.toThrow('the change failed');
      expect(await countRows(t, `webhook_deliveries WHERE webhook_id = $1`, [hook.id])).toBe(0);
      expect(await jobsOfOrg()).toBe(jobsBefore);
    });

    it('retries a receiver that fails twice: one success, three attempts, one webhook-id', async () => {
      const sink = await receiver((n) => (n <= 2 ? 503 : 200));
      const hook = await soleWebhook({ url: sink.url, events: ['task.created'] });
      await createTask(t, world.orgId, projectId, world.owner);
      const deliveries = await eventually(
        () => deliveriesOf(world, hook.id),
        (d) => d[0]?.status === 'succeeded',
      );
      expect(deliveries).toHaveLength(1);
      const [delivery] = deliveries;
      expect(delivery).toMatchObject({ status: 'succeeded', nextAttemptAt: null });
      expect(delivery!.attempts.map((a: { httpStatus: number }) => a.httpStatus)).toEqual([
        503, 503, 200,
      ]);
      expect(delivery!.attempts[0].error).toBe('HTTP 503: not today');
      expect(delivery!.attempts[2].error).toBeNull();
      expect(sink.requests).toHaveLength(3);
      expect(new Set(sink.requests.map((r) => r.headers['webhook-id']))).toEqual(
        new Set([delivery!.messageId]),
      );
      // Every attempt is signed anew over the same body.
      for (const r of sink.requests) new Webhook(hook.secret).verify(r.body, signedHeaders(r));
      expect(new Set(sink.requests.map((r) => r.body)).size).toBe(1);
    });

    it('fails a delivery after the last retry, keeping at most 1 KB of the answer', async () => {
      const sink = await receiver(() => 500);
      const hook = await soleWebhook({ url: sink.url, events: ['task.created'] });
      await createTask(t, world.orgId, projectId, world.owner);
      const [delivery] = await eventually(
        () => deliveriesOf(world, hook.id),
        (d) => d[0]?.status === 'failed',
      );
      expect(delivery!.attempts).toHaveLength(4); // the first + WEBHOOK_RETRY_SCHEDULE=1,1,1
      expect(delivery!.nextAttemptAt).toBeNull();
      expect(sink.requests).toHaveLength(4);
    });

    it('treats a redirect as a failed attempt and does not follow it', async () => {
      const target = await receiver();
      const sink = await receiver(() => 307);
      sink.redirectTo = target.url;
      const hook = await soleWebhook({ url: sink.url, events: ['task.created'] });
      await createTask(t, world.orgId, projectId, world.owner);
      const [delivery] = await eventually(
        () => deliveriesOf(world, hook.id),
        (d) => (d[0]?.attempts.length ?? 0) >= 1,
      );
      expect(delivery!.attempts[0]).toMatchObject({
        httpStatus: 307,
        error: `HTTP 307: redirect to ${target.url} not followed`,
      });
      expect(target.requests).toEqual([]);
      await t.http().delete(webhookPath(world.orgId, hook.id)).set(world.owner.auth);
    });

    it('signs with both secrets during a rotation’s overlap, each verifying alone', async () => {
      const sink = await receiver();
      const hook = await soleWebhook({ url: sink.url, events: ['task.created'] });
      const rotated = await t
        .http()
        .post(`${webhookPath(world.orgId, hook.id)}/rotate-secret`)
        .set(world.owner.auth);
      expectStatus(rotated, 200);
      await createTask(t, world.orgId, projectId, world.owner);
      await eventually(() => sink.requests.length >= 1);
      const [got] = sink.requests;
      const signatures = String(got!.headers['webhook-signature']).split(' ');
      expect(signatures).toHaveLength(2);
      for (const [secret, signature] of [
        [rotated.body.secret, signatures[0]],
        [hook.secret, signatures[1]],
      ] as const) {
        const alone = { ...signedHeaders(got!), 'webhook-signature': signature! };
        expect(() => new Webhook(secret).verify(got!.body, alone)).not.toThrow();
      }
      expect(() =>
        new Webhook(hook.secret).verify(got!.body, {
          ...signedHeaders(got!),
          'webhook-signature': signatures[0]!,
        }),
      ).toThrow();

      // Once the overlap is over, only the new secret signs.
      await t.dataSource.query(
        `UPDATE webhooks SET previous_secret_expires_at = now() - interval '1 second' WHERE id = $1`,
        [hook.id],
      );
      await createTask(t, world.orgId, projectId, world.owner);
      await eventually(() => sink.requests.length >= 2);
      const later = sink.requests[1]!;
      expect(String(later.headers['webhook-signature']).split(' ')).toHaveLength(1);
      new Webhook(rotated.body.secret).verify(later.body, signedHeaders(later));
    });

    it('redelivers a finished delivery with the same webhook-id; a pending one is 409', async () => {
      const sink = await receiver();
      const hook = await soleWebhook({ url: sink.url, events: ['task.created'] });
      await createTask(t, world.orgId, projectId, world.owner);
      const [first] = await eventually(
        () => deliveriesOf(world, hook.id),
        (d) => d[0]?.status === 'succeeded',
      );
      const res = await t
        .http()
        .post(redeliverPath(world.orgId, hook.id, first!.id))
        .set(world.owner.auth);
      expectStatus(res, 202);
      expect(res.body).toMatchObject({ id: first!.id, status: 'pending' });
      const [again] = await eventually(
        () => deliveriesOf(world, hook.id),
        (d) => d[0]?.status === 'succeeded' && d[0]?.attempts.length === 2,
      );
      expect(again!.attempts).toHaveLength(2);
      expect(sink.requests).toHaveLength(2);
      expect(sink.requests.map((r) => r.headers['webhook-id'])).toEqual([
        first!.messageId,
        first!.messageId,
      ]);
      expect(sink.requests[1]!.body).toBe(sink.requests[0]!.body);

      await t.dataSource.query(`UPDATE webhook_deliveries SET status = 'pending' WHERE id = $1`, [
        first!.id,
      ]);
      expectProblem(
        await t
          .http()
          .post(redeliverPath(world.orgId, hook.id, first!.id))
          .set(world.owner.auth),
        409,
        'delivery-in-progress',
      );
    });

    it('disables a webhook failing for 24 h (reason shown, audited), gives it nothing new, revives with PATCH', async () => {
      const sink = await receiver(() => 500);
      const hook = await soleWebhook({ url: sink.url, events: ['task.created'] });
      const count = () => countRows(t, `webhook_deliveries WHERE webhook_id = $1`, [hook.id]);
      // It has been failing since yesterday; the next failure disables it.
      await t.dataSource.query(
        `UPDATE webhooks SET failing_since = now() - interval '25 hours' WHERE id = $1`,
        [hook.id],
      );
      await createTask(t, world.orgId, projectId, world.owner);
      const disabled = await eventually(
        async () =>
          (await t.http().get(webhookPath(world.orgId, hook.id)).set(world.owner.auth)).body,
        (w) => w.enabled === false,
      );
      expect(disabled).toMatchObject({
        enabled: false,
        disabledReason: 'every delivery failed for 24 hours',
        disabledAt: expect.any(String),
      });
      // Its pending delivery ends as failed without another attempt.
      const [delivery] = await eventually(
        () => deliveriesOf(world, hook.id),
        (d) => d[0]?.status === 'failed',
      );
      expect(delivery!.attempts).toHaveLength(1);
      const audit = await t
        .http()
        .get(api(`/orgs/${world.orgId}/audit-log`))
        .query({ action: 'webhook.disabled', targetId: hook.id })
        .set(world.owner.auth);
      expect(audit.body.data).toEqual([
        expect.objectContaining({
          actorId: null,
          metadata: expect.objectContaining({ reason: 'every delivery failed for 24 hours' }),
        }),
      ]);
      // Disabled: no new deliveries, and no redelivery.
      await createTask(t, world.orgId, projectId, world.owner);
      expect(await count()).toBe(1);
      expectProblem(
        await t
          .http()
          .post(redeliverPath(world.orgId, hook.id, delivery!.id))
          .set(world.owner.auth),
        409,
        'webhook-disabled',
      );

      sink.answer = () => 200;
      const revived = await t
        .http()
        .patch(webhookPath(world.orgId, hook.id))
        .set(world.owner.auth)
        .send({ enabled: true });
      expectStatus(revived, 200);
      expect(revived.body).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null });
      await createTask(t, world.orgId, projectId, world.owner);
      expect(await count()).toBe(2);
      await eventually(
        () => deliveriesOf(world, hook.id),
        (d) => d[0]?.status === 'succeeded',
      );
    });

    it('delivers events raised in a system operation (an invite accepted)', async () => {
      const sink = await receiver();
      const hook = await soleWebhook({
        url: sink.url,
        events: ['member.joined', 'invite.accepted'],
      });
      const invite = await t
        .http()
        .post(api(`/orgs/${world.orgId}/invites`))
        .set(world.owner.auth)
        .send({ role: 'member', maxUses: 1 });
      expectStatus(invite, 201);
      const joiner = await registerUser(t);
      const accepted = await t
        .http()
        .post(api('/invites/accept'))
        .set(joiner.auth)
        .send({ token: invite.body.token });
      expectStatus(accepted, 200);
      await eventually(() => sink.requests.length >= 2);
      expect(sink.requests.map((r) => JSON.parse(r.body).type).sort()).toEqual([
        'invite.accepted',
        'member.joined',
      ]);
      for (const r of sink.requests) new Webhook(hook.secret).verify(r.body, signedHeaders(r));
    });
  });

  it('prunes finished deliveries past their retention, keeps pending and recent ones', async () => {
    const world = await createOrgWorld(t);
    const hook = await createWebhook(world, { url: (await receiver()).url });
    const rows = await t.dataSource.query(
      `INSERT INTO webhook_deliveries (org_id, webhook_id, event_type, event_position, body, status, created_at)
       SELECT $1, $2, 'task.created', n, '{}', s, now() - make_interval(days => d)
         FROM (VALUES (1, 'succeeded', 31), (2, 'failed', 31), (3, 'pending', 31), (4, 'failed', 29))
              AS x(n, s, d)
       RETURNING event_position::int AS n`,
      [world.orgId, hook.id],
    );
    expect(rows).toHaveLength(4);
    const [jobId] = await t.app
      .get(UnitOfWork)
      .transaction({ role: 'worklane_system' }, async (em) => [
        await t.app.get(Jobs).enqueue(em, DELIVERY_PRUNE_JOB, {}),
      ]);
    await eventually(
      async () =>
        (
          await t.dataSource.query(
            `SELECT state FROM pgboss.job WHERE id = $1
             UNION ALL SELECT state FROM pgboss.archive WHERE id = $1`,
            [jobId],
          )
        )[0]?.state,
      (state) => state === 'completed',
    );
    const left = await t.dataSource.query(
      `SELECT event_position::int AS n FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY 1`,
      [hook.id],
    );
    expect(left.map((r: { n: number }) => r.n)).toEqual([3, 4]);
  });

  describe('durability and instances', () => {
    it('a delivery enqueued by an API-only instance is delivered by a worker started later', async () => {
      const queue = `${QUEUE}-later`;
      const apiOnly = await isolatedApp({ ...ENV, WORKERS: '0', WEBHOOK_QUEUE: queue });
      const sink = await receiver();
      let world: { orgId: string; owner: SignedInUser };
      try {
        const owner = await registerUser(apiOnly);
        const orgRes = await apiOnly
          .http()
          .post(api('/orgs'))
          .set(owner.auth)
          .send({ name: 'Durable' });
        world = { orgId: orgRes.body.id, owner };
        await createWebhook(world, { url: sink.url, events: ['project.created'] }, apiOnly);
        await postProject(apiOnly, world.orgId, owner);
        // Committed with its job, which nobody runs yet.
        expect(
          await countRows(t, `pgboss.job WHERE name = $1 AND state = 'created'`, [queue]),
        ).toBe(1);
      } finally {
        // "Killed" between the commit and the delivery.
        await apiOnly.close();
      }
      expect(sink.requests).toEqual([]);
      const worker = await isolatedApp({ ...ENV, WEBHOOK_QUEUE: queue });
      try {
        await eventually(() => sink.requests.length >= 1);
        expect(sink.requests).toHaveLength(1);
        expect(JSON.parse(sink.requests[0]!.body).type).toBe('project.created');
      } finally {
        await worker.close();
      }
    }, 60_000);

    onServer(
      'two instances with workers on one database deliver each event exactly once',
      async () => {
        const other = await createTestApp({ env: ENV });
        try {
          const world = await createOrgWorld(t);
          const projectId = await createProject(t, world.orgId, world.owner);
          const sink = await receiver();
          await createWebhook(world, { url: sink.url, events: ['task.created'] });
          const n = 30;
          await Promise.all(
            Array.from({ length: n }, (_, i) =>
              createTask(i % 2 ? t : other, world.orgId, projectId, world.owner, {
                title: `t${i}`,
              }),
            ),
          );
          await eventually(
            () =>
              countRows(t, `webhook_deliveries WHERE org_id = $1 AND status = 'succeeded'`, [
                world.orgId,
              ]),
            (k) => k === n,
            40_000,
          );
          expect(sink.requests).toHaveLength(n);
          expect(new Set(sink.requests.map((r) => r.headers['webhook-id'])).size).toBe(n);
        } finally {
          await other.close();
        }
      },
      60_000,
    );
  });

  describe('SSRF rules in production', () => {
    let prod: TestApp;
    let world: { orgId: string; owner: SignedInUser };
    beforeAll(async () => {
      prod = await isolatedApp({ ...ENV, NODE_ENV: 'production', WEBHOOK_QUEUE: `${QUEUE}-prod` });
      const owner = await registerUser(prod);
      const orgRes = await prod.http().post(api('/orgs')).set(owner.auth).send({ name: 'Prod' });
      world = { orgId: orgRes.body.id, owner };
    });
    afterAll(() => prod?.close());

    it.each([
      'http://127.0.0.1:8080/hooks',
      'http://10.0.0.7/hooks',
      'http://192.168.1.20/hooks',
      'http://100.64.1.1/hooks',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]:8080/hooks',
      'http://[fd00:ec2::254]/',
      'http://[::ffff:127.0.0.1]/',
      'http://localhost:8080/hooks',
      'http://api.localhost/hooks',
      'http://0.0.0.0/',
      'ftp://example.com/hooks',
    ])('refuses %s at creation (400 naming url)', async (url) => {
      const res = await prod
        .http()
        .post(webhooksPath(world.orgId))
        .set(world.owner.auth)
        .send({ url });
      expectProblem(res, 400);
      expect(fieldsOf(res)).toEqual(['url']);
    });

    it('refuses a private target on PATCH, and again at delivery time after DNS', async () => {
      const sink = await receiver();
      // A name that resolves nowhere is taken at creation: the attempt checks again.
      const hook = await createWebhook(world, { url: 'https://hooks.invalid/worklane' }, prod);
      const patched = await prod
        .http()
        .patch(webhookPath(world.orgId, hook.id))
        .set(world.owner.auth)
        .send({ url: sink.url });
      expectProblem(patched, 400);
      expect(fieldsOf(patched)).toEqual(['url']);
      // As if DNS had pointed the name at loopback after the check: the attempt refuses.
      await prod.dataSource.query(`UPDATE webhooks SET url = $2 WHERE id = $1`, [
        hook.id,
        sink.url.replace('127.0.0.1', 'localhost'),
      ]);
      await postProject(prod, world.orgId, world.owner);
      const res = await eventually(
        async () =>
          (await prod.http().get(deliveriesPath(world.orgId, hook.id)).set(world.owner.auth)).body
            .data,
        (d: Array<{ attempts: unknown[] }>) => (d[0]?.attempts.length ?? 0) >= 1,
      );
      expect(res[0].attempts[0]).toMatchObject({
        httpStatus: null,
        error: expect.stringMatching(/refused target/),
      });
      expect(sink.requests).toEqual([]);
    });
  });
});
