import { api, type TestApp } from './app';
import { registerUser, SignedInUser } from './users';

export type Role = 'owner' | 'admin' | 'member' | 'viewer';

export interface OrgWorld {
  orgId: string;
  owner: SignedInUser;
  admin: SignedInUser;
  member: SignedInUser;
  viewer: SignedInUser;
  /** Signed in, member of no org. */
  outsider: SignedInUser;
  /** Owner of another org (`otherOrgId`): the cross-tenant prober. */
  stranger: SignedInUser;
  otherOrgId: string;
}

export async function createOrg(t: TestApp, owner: SignedInUser, name = 'Acme'): Promise<string> {
  const res = await t.http().post(api('/orgs')).set(owner.auth).send({ name });
  if (res.status !== 201)
    throw new Error(`create org failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

/**
 * Fixture shortcut: puts a user in an org with a role straight in the database (as the
 * table owner). Tests of the membership rules themselves go through the API.
 */
export async function addMember(
  t: TestApp,
  orgId: string,
  user: SignedInUser,
  role: Role,
): Promise<void> {
  await t.dataSource.query(`INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3)`, [
    orgId,
    user.id,
    role,
  ]);
}

/** One org with a user in each role, a signed-in outsider, and the owner of another org. */
export async function createOrgWorld(t: TestApp): Promise<OrgWorld> {
  const [owner, admin, member, viewer, outsider, stranger] = await Promise.all(
    ['owner', 'admin', 'member', 'viewer', 'outsider', 'stranger'].map((name) =>
      registerUser(t, { name }),
    ),
  );
  const orgId = await createOrg(t, owner!, 'Acme');
  const otherOrgId = await createOrg(t, stranger!, 'Other Co');
  await addMember(t, orgId, admin!, 'admin');
  await addMember(t, orgId, member!, 'member');
  await addMember(t, orgId, viewer!, 'viewer');
  return {
    orgId,
    owner: owner!,
    admin: admin!,
    member: member!,
    viewer: viewer!,
    outsider: outsider!,
    stranger: stranger!,
    otherOrgId,
  };
}

/** The callers of the world, by name. `anonymous` sends no token. */
export type Caller = Role | 'outsider' | 'stranger' | 'anonymous';

/** `GET /orgs/:orgId` as `user`. */
export function getOrg(t: TestApp, orgId: string, user: SignedInUser) {
  return t
    .http()
    .get(api(`/orgs/${orgId}`))
    .set(user.auth);
}
