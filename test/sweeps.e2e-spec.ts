import { randomUUID } from 'node:crypto';
import { DiscoveryModule } from '@nestjs/core';
import { createTestApp, TestApp } from './helpers/app';
import { createOrgWorld, OrgWorld } from './helpers/orgs';
import { PROBLEM } from './helpers/problems';
import { declaredRoutes, DeclaredRoute } from './helpers/routes';
import { SignedInUser } from './helpers/users';

/**
 * Beside the 401 sweep (docs.e2e-spec): every tenant route, walked from the routes the
 * controllers declare, answers a signed-in non-member and a member of another org exactly
 * as it answers for an org that does not exist — 404, the same problem body — whatever
 * the method, the other path ids or the body. A new route is swept without a line here.
 */
describe('the tenant route sweeps', () => {
  let t: TestApp;
  let w: OrgWorld;
  let routes: DeclaredRoute[];

  beforeAll(async () => {
    t = await createTestApp({ extra: { imports: [DiscoveryModule] } });
    w = await createOrgWorld(t);
    routes = declaredRoutes(t).filter((r) => r.path.startsWith('/api/v1/orgs/{orgId}'));
  });
  afterAll(() => t?.close());

  const call = (route: DeclaredRoute, orgId: string, by: SignedInUser) => {
    const url = route.path.replace('{orgId}', orgId).replace(/\{\w+\}/g, () => randomUUID());
    return t
      .http()
      [route.method.toLowerCase() as 'get'](url)
      .set(by.auth)
      .send({ name: 'probe', title: 'probe', role: 'member', email: 'probe@example.test' });
  };
  /** The problem without its `instance` (the URL, which differs by the org id). */
  const shape = (body: Record<string, unknown>) => {
    const { instance: _instance, ...rest } = body;
    return rest;
  };

  it('finds every tenant route', () => {
    expect(routes.length).toBeGreaterThan(25);
  });

  it.each([
    ['a signed-in non-member', 'outsider'],
    ['a member of another org', 'stranger'],
  ] as const)(
    'answers %s on every tenant route as for an org that does not exist',
    async (_who, caller) => {
      for (const route of routes) {
        const name = `${route.method} ${route.path}`;
        const nowhere = await call(route, randomUUID(), w[caller]);
        const probe = await call(route, w.orgId, w[caller]);
        expect({ route: name, status: probe.status }).toEqual({ route: name, status: 404 });
        expect(probe.headers['content-type']).toMatch(PROBLEM);
        expect({ route: name, body: shape(probe.body) }).toEqual({
          route: name,
          body: shape(nowhere.body),
        });
      }
    },
  );
});
