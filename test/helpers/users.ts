import { randomBytes } from 'node:crypto';
import type { TestApp } from './app';

export interface SignedInUser {
  id: string;
  email: string;
  name: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  /** `{ Authorization: 'Bearer …' }` */
  auth: { Authorization: string };
}

export function uniqueEmail(label = 'user'): string {
  return `${label}-${randomBytes(5).toString('hex')}@example.test`;
}

export async function registerUser(
  t: TestApp,
  overrides: Partial<{ email: string; password: string; name: string; inviteToken: string }> = {},
): Promise<SignedInUser> {
  const body = {
    email: overrides.email ?? uniqueEmail(),
    password: overrides.password ?? 'correct horse battery',
    name: overrides.name ?? 'Test User',
    ...(overrides.inviteToken ? { inviteToken: overrides.inviteToken } : {}),
  };
  const res = await t.http().post('/api/v1/auth/register').send(body);
  if (res.status !== 201)
    throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return {
    id: res.body.user.id,
    email: res.body.user.email,
    name: res.body.user.name,
    password: body.password,
    accessToken: res.body.accessToken,
    refreshToken: res.body.refreshToken,
    auth: { Authorization: `Bearer ${res.body.accessToken}` },
  };
}
