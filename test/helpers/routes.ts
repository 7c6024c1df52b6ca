import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService } from '@nestjs/core';
import { IS_PUBLIC } from '../../src/shared/auth/public.decorator';
import type { TestApp } from './app';

export interface DeclaredRoute {
  method: string;
  /** As the OpenAPI document names it: `/api/v1/orgs/{orgId}`. */
  path: string;
  isPublic: boolean;
}

/** Every route a controller declares (the app needs `DiscoveryModule` among its imports). */
export function declaredRoutes(t: TestApp): DeclaredRoute[] {
  const routes: DeclaredRoute[] = [];
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
      const isPublic =
        Reflect.getMetadata(IS_PUBLIC, handler) ?? Reflect.getMetadata(IS_PUBLIC, type) ?? false;
      routes.push({ method, path: prefixed.replace(/:(\w+)/g, '{$1}'), isPublic });
    }
  }
  return routes.sort((a, b) => `${a.method} ${a.path}`.localeCompare(`${b.method} ${b.path}`));
}
