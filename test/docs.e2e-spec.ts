import { DiscoveryModule } from '@nestjs/core';
import { createTestApp, TestApp } from './helpers/app';
import { declaredRoutes } from './helpers/routes';
import { PROBLEM } from './helpers/problems';

describe('the OpenAPI document', () => {
  let t: TestApp;
  let doc: {
    paths: Record<
      string,
      Record<string, { responses: Record<string, unknown>; security?: unknown[] }>
    >;
  };

  beforeAll(async () => {
    t = await createTestApp({ extra: { imports: [DiscoveryModule] } });
    doc = (await t.http().get('/docs-json')).body;
  });
  afterAll(() => t.close());

  it('documents every route the controllers declare, and no other', () => {
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    const declared = declaredRoutes(t)
      .map((r) => `${r.method} ${r.path}`)
      .sort();
    expect(declared.length).toBeGreaterThan(30);
    expect(documented).toEqual(declared);
  });

  it('documents a success response and the problem responses of every API route', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.startsWith('/api/v1')) continue;
      for (const [method, op] of Object.entries(ops)) {
        const codes = Object.keys(op.responses);
        expect({ route: `${method} ${path}`, ok: codes.some((c) => c.startsWith('2')) }).toEqual({
          route: `${method} ${path}`,
          ok: true,
        });
        expect({ route: `${method} ${path}`, errors: codes.some((c) => /^[45]/.test(c)) }).toEqual({
          route: `${method} ${path}`,
          errors: true,
        });
      }
    }
  });

  it('serves Swagger UI at /docs', async () => {
    const res = await t.http().get('/docs');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/swagger/i);
  });
});

describe('authentication on every route', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ extra: { imports: [DiscoveryModule] } });
  });
  afterAll(() => t.close());

  it('answers 401 problem+json to an anonymous caller on every route not marked public', async () => {
    const closed = declaredRoutes(t).filter((r) => !r.isPublic);
    expect(closed.length).toBeGreaterThan(30);
    for (const route of closed) {
      const url = route.path.replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000');
      const res = await t.http()[route.method.toLowerCase() as 'get'](url).send({});
      expect({ route: `${route.method} ${route.path}`, status: res.status }).toEqual({
        route: `${route.method} ${route.path}`,
        status: 401,
      });
      expect(res.headers['content-type']).toMatch(PROBLEM);
    }
  });

  it('keeps exactly the sign-in routes and the probes public', () => {
    const open = declaredRoutes(t)
      .filter((r) => r.isPublic)
      .map((r) => `${r.method} ${r.path}`);
    expect(open).toEqual([
      'GET /health',
      'GET /health/ready',
      'POST /api/v1/auth/login',
      'POST /api/v1/auth/logout',
      'POST /api/v1/auth/password/forgot',
      'POST /api/v1/auth/password/reset',
      'POST /api/v1/auth/refresh',
      'POST /api/v1/auth/register',
      'POST /api/v1/auth/verify-email',
    ]);
  });

  it('refuses a NUL character in any body or query string with a 400 naming the field', async () => {
    const body = await t
      .http()
      .post('/api/v1/auth/register')
      .send({ email: 'a@b.io', password: 'pass\u0000word', name: 'x' });
    expect(body.status).toBe(400);
    expect(body.body.errors).toEqual([
      { field: 'password', message: 'must not contain NUL characters' },
    ]);
    const login = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ email: 'a@b.io', password: 'x\u0000' });
    expect(login.status).toBe(400);
  });
});
