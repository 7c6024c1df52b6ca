/**
 * `npm run seed`: a demo organization to explore, made through the public API exactly as a
 * client would — so the audit log, the stats and the event history are the real thing.
 *
 * It talks to the API at SEED_API_URL (default: this machine's HOST and PORT). When none
 * answers there, it starts the API in this process on the configured database (the
 * embedded one by default), seeds it and stops it. Running it twice changes nothing: it
 * finds the demo org and says so. It refuses to run with NODE_ENV=production.
 */
import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

export const DEMO_ORG = 'Acme Robotics (demo)';
const DOMAIN = 'demo.worklane.dev';
const ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
type Role = (typeof ROLES)[number];

export const DEMO_PEOPLE: Record<Role, { name: string; email: string; password: string }> = {
  owner: { name: 'Olivia Owner', email: `owner@${DOMAIN}`, password: 'demo-owner-pass' },
  admin: { name: 'Adam Admin', email: `admin@${DOMAIN}`, password: 'demo-admin-pass' },
  member: { name: 'Mia Member', email: `member@${DOMAIN}`, password: 'demo-member-pass' },
  viewer: { name: 'Victor Viewer', email: `viewer@${DOMAIN}`, password: 'demo-viewer-pass' },
};

const STATUSES = ['todo', 'in_progress', 'done', 'blocked'] as const;
const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;

const PROJECTS = [
  {
    name: 'Warehouse robot v2',
    description: 'Second generation of the picking robot: sensors, firmware, field trials.',
    tasks: [
      'Choose the lidar supplier',
      'Firmware: obstacle avoidance',
      'Battery swap station design',
      'Safety certification paperwork',
      'Field trial in the Lyon warehouse',
      'Gripper torque calibration',
      'Fleet dashboard wireframes',
      'Wi-Fi roaming tests',
      'Emergency stop wiring review',
      'Spare parts catalogue',
      'Thermal test of the motor controller',
      'Operator training videos',
      'Collision log export',
      'Charging dock firmware update',
      'Noise measurements at night shift',
      'Pilot customer contract',
      'Night-time lighting for cameras',
      'Replace the drive belts',
    ],
  },
  {
    name: 'Customer portal',
    description: 'Self-service portal for customers: orders, robot status, invoices.',
    tasks: [
      'Sign-in with SSO',
      'Order history page',
      'Robot status live view',
      'Invoice PDF download',
      'Accessibility audit',
      'Translate into German',
      'Support chat widget',
      'Rate-limit the public API',
      'Dark mode',
      'Onboarding checklist',
      'Usage analytics events',
      'Cookie banner review',
      'Password reset flow copy',
      'Load test the status page',
      'Empty states for new customers',
      'Billing address validation',
    ],
  },
];

interface Session {
  token: string;
  userId: string;
}

class Api {
  constructor(private readonly base: string) {}

  async call<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
    const response = await this.send(method, path, body, token);
    if (!response.ok) {
      throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
    }
    return (response.status === 204 ? undefined : await response.json()) as T;
  }

  send(method: string, path: string, body?: unknown, token?: string): Promise<Response> {
    return fetch(`${this.base}/api/v1${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }
}

/** Signs the person in, registering them first if they have no account yet. */
async function signIn(api: Api, role: Role): Promise<Session> {
  const person = DEMO_PEOPLE[role];
  const login = await api.send('POST', '/auth/login', {
    email: person.email,
    password: person.password,
  });
  const answer = login.ok
    ? ((await login.json()) as { accessToken: string; user: { id: string } })
    : await api.call<{ accessToken: string; user: { id: string } }>(
        'POST',
        '/auth/register',
        person,
      );
  return { token: answer.accessToken, userId: answer.user.id };
}

const isoDay = (offsetDays: number) =>
  new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

/** Seeds the demo org through the API at `base`; 'existed' when it was already there. */
export async function seedDemo(base: string): Promise<'created' | 'existed'> {
  const api = new Api(base);
  const people = {} as Record<Role, Session>;
  for (const role of ROLES) people[role] = await signIn(api, role);
  const owner = people.owner.token;

  const orgs = await api.call<{ data: Array<{ id: string; name: string }> }>(
    'GET',
    '/orgs?limit=100',
    undefined,
    owner,
  );
  if (orgs.data.some((org) => org.name === DEMO_ORG)) return 'existed';

  // A name fixed after creation: the audit log's first page then shows a rename.
  const org = await api.call<{ id: string }>('POST', '/orgs', { name: 'Acme Robotics' }, owner);
  await api.call('PATCH', `/orgs/${org.id}`, { name: DEMO_ORG }, owner);

  // Everyone joins through a link invite; the admin joins as a member and is promoted.
  for (const role of ['admin', 'member', 'viewer'] as const) {
    const invite = await api.call<{ token: string }>(
      'POST',
      `/orgs/${org.id}/invites`,
      { role: role === 'admin' ? 'member' : role, maxUses: 1 },
      owner,
    );
    await api.call('POST', '/invites/accept', { token: invite.token }, people[role].token);
  }
  await api.call(
    'PATCH',
    `/orgs/${org.id}/members/${people.admin.userId}`,
    { role: 'admin' },
    owner,
  );
  // One invite stays pending (its email goes to SMTP_URL, or to MAIL_DIR as a file).
  await api.call(
    'POST',
    `/orgs/${org.id}/invites`,
    { email: `newcomer@${DOMAIN}`, role: 'member' },
    people.admin.token,
  );

  const assignees = [people.member.userId, people.admin.userId, people.owner.userId, null];
  let n = 0;
  for (const project of PROJECTS) {
    const created = await api.call<{ id: string }>(
      'POST',
      `/orgs/${org.id}/projects`,
      { name: project.name, description: project.description },
      people.admin.token,
    );
    for (const title of project.tasks) {
      const status = STATUSES[n % 4]!;
      // Due dates from three weeks ago to five weeks ahead; every seventh has none.
      const dueDate = n % 7 === 3 ? null : isoDay(((n * 11) % 56) - 21);
      const author = n % 3 === 0 ? people.member : people.admin;
      const task = await api.call<{ id: string }>(
        'POST',
        `/orgs/${org.id}/projects/${created.id}/tasks`,
        {
          title,
          priority: PRIORITIES[(n * 3) % 4],
          assigneeId: assignees[n % 4],
          dueDate,
        },
        author.token,
      );
      // Work moves through the columns, so the history shows real transitions.
      const path = `/orgs/${org.id}/projects/${created.id}/tasks/${task.id}`;
      if (status !== 'todo') await api.call('PATCH', path, { status: 'in_progress' }, owner);
      if (status === 'done' || status === 'blocked') {
        await api.call('PATCH', path, { status }, people.admin.token);
      }
      n++;
    }
  }
  return 'created';
}

async function apiAnswersAt(base: string): Promise<boolean> {
  try {
    return (await fetch(`${base}/health`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

/** The API in this process, on an ephemeral port, for when none is running. */
async function startApi(): Promise<{ base: string; stop: () => Promise<void> }> {
  process.env.LOG_LEVEL ??= 'warn';
  const { NestFactory } = await import('@nestjs/core');
  const { AppModule } = await import('../app.module');
  const { configureApp, createAdapter } = await import('../bootstrap');
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, createAdapter(), {
    logger: ['error', 'warn'],
  });
  await configureApp(app);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { base: `http://127.0.0.1:${address.port}`, stop: () => app.close() };
}

async function main(): Promise<void> {
  if (process.env.NODE_ENV === 'production') {
    console.error('npm run seed makes demo accounts with published passwords: not in production.');
    process.exitCode = 1;
    return;
  }
  const host = process.env.HOST && process.env.HOST !== '0.0.0.0' ? process.env.HOST : '127.0.0.1';
  const configured = process.env.SEED_API_URL ?? `http://${host}:${process.env.PORT ?? 3000}`;
  const running = await apiAnswersAt(configured);
  const api = running ? { base: configured, stop: async () => undefined } : await startApi();
  try {
    console.log(
      running
        ? `Seeding through the API at ${api.base}`
        : `No API at ${configured}: seeding through one started here`,
    );
    const outcome = await seedDemo(api.base);
    console.log(
      outcome === 'created'
        ? `Made the demo org "${DEMO_ORG}": 4 members, 2 projects, 34 tasks, a pending invite.`
        : `The demo org "${DEMO_ORG}" is already there: nothing changed.`,
    );
    console.log('Sign in as (email / password):');
    for (const role of ROLES) {
      console.log(`  ${role.padEnd(7)} ${DEMO_PEOPLE[role].email} / ${DEMO_PEOPLE[role].password}`);
    }
  } finally {
    await api.stop();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`Seeding failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
