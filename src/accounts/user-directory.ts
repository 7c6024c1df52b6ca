import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { UserCard, UserDirectory } from '../shared/auth/ports';
import { UsersRepository } from './users.repository';

/** Who a user is, for the tenant modules (member lists, invites): the kernel's user port. */
@Injectable()
export class AccountsUserDirectory implements UserDirectory {
  constructor(private readonly users: UsersRepository) {}

  async cards(em: EntityManager, userIds: readonly string[]): Promise<Map<string, UserCard>> {
    if (userIds.length === 0) return new Map();
    const found = await this.users.cards(em, [...new Set(userIds)]);
    return new Map(found.map((card) => [card.id, card]));
  }

  idByEmail(em: EntityManager, email: string): Promise<string | null> {
    return this.users.idByEmail(em, email);
  }
}
