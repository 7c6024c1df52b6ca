import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'worklane:public';

/** Opens a route to anonymous callers; every other route requires an access token. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/**
 * Set by `TenantRoute()`: the membership guard checks the caller's session in its own
 * query, so the JWT guard need not look it up separately.
 */
export const IS_TENANT_ROUTE = 'worklane:tenant-route';

/**
 * A route that also admits a single-use ticket in `?ticket=` instead of a bearer token
 * (the event stream: browsers' EventSource cannot send headers). The JWT guard lets a
 * request that carries a ticket through without a user; the route's own guard redeems it.
 */
export const ACCEPTS_TICKET = 'worklane:accepts-ticket';
