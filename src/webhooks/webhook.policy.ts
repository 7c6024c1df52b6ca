import { OrgRole } from '../shared/database/request-context';

/** Webhooks see every event of the org and hold a secret: owners and admins only. */
export const WebhookPermissions = {
  manage: ['owner', 'admin'],
} as const satisfies Record<string, readonly OrgRole[]>;
