import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryModule, DiscoveryService } from '@nestjs/core';
import { createTestApp, TestApp } from './helpers/app';

/** Every route a controller declares, as the OpenAPI document names it (`GET /api/v1/orgs/{orgId}`). */
function declaredRoutes(t: TestApp): string[] {
  const routes: string[] = [];
  for (const wrapper of t.app.get(DiscoveryService).getControllers()) {
    const type = wrapper.metatype as (new (...args: unknown[]) => unknown) | undefined;
    if (!type) continue;
    const base = String(Reflect.getMetadata(PATH_METADATA, type) ?? '');
    for (const name of Object.getOwnPropertyNames(type.prototype).filter(
      (n) => n !== 'constructor',
    )) {
      const handler = type.prototype[name];
      const path =
        typeof handler === 'function' ? Reflect.getMetadata(PATH_METADATA, handler) : undefined;
      if (path === undefined) continue;
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
      const full = ['', ...[base, String(path)].flatMap((p) => p.split('/')).filter(Boolean)].join(
        '/',
      );
      const prefixed = full.startsWith('/health') ? full : `/api/v1${full}`;
      routes.push(`${method} ${prefixed.replace(/:(\w+)/g, '{$1}')}`);
    }
  }
  return routes.sort();
}

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
    const declared = declaredRoutes(t);
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
