import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
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
    changes: Partial<Pick<UserEntity, 'email' | 'name' | 'passwordHash'>>,
  ) {
    await em.update(UserEntity, { id }, changes);
  }
}
