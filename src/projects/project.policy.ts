import { EVERYONE } from '../shared/auth/policy';
import { OrgRole } from '../shared/database/request-context';

/** DESIGN §4, the project rows. */
export const ProjectPermissions = {
  read: EVERYONE,
  write: ['owner', 'admin'],
} as const satisfies Record<string, readonly OrgRole[]>;
