import { OrgRole } from '../shared/database/request-context';

const EVERYONE: readonly OrgRole[] = ['owner', 'admin', 'member', 'viewer'];

/** DESIGN §4, the project rows. */
export const ProjectPermissions = {
  read: EVERYONE,
  write: ['owner', 'admin'],
} as const satisfies Record<string, readonly OrgRole[]>;
