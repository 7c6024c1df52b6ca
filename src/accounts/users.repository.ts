import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { UserCard } from '../shared/auth/ports';
import { one, rows } from '../shared/database/sql';
import { UserEntity } from './user.entity';

/** Users are global (not tenant) rows; every method runs in the caller's unit of work. */
@Injectable()
export class UsersRepository {
  findById(em: EntityManager, id: string): Promise<UserEntity | null> {
    return em.findOne(UserEntity, { where: { id } });
  }

  findByEmail(em: EntityManager, email: string): Promise<UserEntity | null> {
    return em.findOne(UserEntity, { where: { email } });
  }

  async insert(
    em: EntityManager,
    user: Pick<UserEntity, 'email' | 'name' | 'passwordHash'>,
  ): Promise<UserEntity> {
    return em.save(em.create(UserEntity, user));
  }

  async update(
    em: EntityManager,
    id: string,
    changes: Partial<
      Pick<UserEntity, 'email' | 'name' | 'passwordHash' | 'emailVerifiedAt' | 'pendingEmail'>
    >,
  ) {
    await em.update(UserEntity, { id }, changes);
  }

  /** Verified, if the address is still `email` (a proof for an old address proves nothing). */
  async markVerified(em: EntityManager, id: string, email: string): Promise<void> {
    // `(SELECT now())`, not now(), beside a column or in a CASE/coalesce: Citus runs this
    // write on the shard and refuses a bare now() there.
    await em.query(
      `UPDATE users SET email_verified_at = coalesce(email_verified_at, (SELECT now())), updated_at = now()
        WHERE id = $1 AND email = $2`,
      [id, email],
    );
  }

  /** Names and addresses of several users in one statement (member lists: no N+1). */
  cards(em: EntityManager, ids: string[]): Promise<UserCard[]> {
    return rows<UserCard>(em, `SELECT id, name, email FROM users WHERE id = ANY($1::uuid[])`, [
      ids,
    ]);
  }

  async idByEmail(em: EntityManager, email: string): Promise<string | null> {
    const row = await one<{ id: string }>(em, `SELECT id FROM users WHERE email = $1`, [email]);
    return row?.id ?? null;
  }
}
