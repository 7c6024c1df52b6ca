import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { evenKeys, Gap, keyBetween, RANK_MAX_LENGTH, REBALANCE_AT } from './task-rank';
import { TaskColumn, TasksRepository } from './tasks.repository';

/**
 * Gives a card its key in a column. The column's lock (`lock`, or `bottom` itself) is held
 * until commit, so the keys read under it stay as they are: the new key is strictly between
 * its neighbours', and only the card's own row is written — unless the key would be too
 * long, and then the column is rebalanced first, in the same transaction.
 */
@Injectable()
export class TaskPlacement {
  constructor(private readonly repo: TasksRepository) {}

  lock(em: EntityManager, column: TaskColumn): Promise<void> {
    return this.repo.lockColumn(em, column);
  }

  /** Locks the column and answers the key at its bottom. */
  async bottom(em: EntityManager, column: TaskColumn, movingId: string | null): Promise<string> {
    await this.lock(em, column);
    const gap = (await this.repo.gap(em, column, movingId, null, null))!;
    return this.keyIn(em, column, movingId, gap);
  }

  /** The key for `gap` of the column (the caller holds its lock). */
  async keyIn(
    em: EntityManager,
    column: TaskColumn,
    movingId: string | null,
    gap: Gap,
  ): Promise<string> {
    const key = keyBetween(gap);
    if (key !== null && key.length <= REBALANCE_AT) return key;
    // Past the soft bound, rebalance only if no card of the column is held by another
    // transaction (one could be waiting for this column's lock: a deadlock). Past the hard
    // bound, or with no key at all (tied ends), rebalance whatever it waits for.
    const must = key === null || key.length > RANK_MAX_LENGTH;
    const { total, locked } = await this.repo.lockForRebalance(em, column, movingId, must);
    if (!must && locked < total) return key!;
    await this.repo.rebalance(em, column, movingId, evenKeys(total));
    const ends = [gap.lower?.id, gap.upper?.id].filter((id): id is string => !!id);
    const fresh = new Map(
      (await this.repo.places(em, column.orgId, ends)).map((card) => [card.id, card]),
    );
    const again = keyBetween({
      lower: gap.lower ? fresh.get(gap.lower.id)! : null,
      upper: gap.upper ? fresh.get(gap.upper.id)! : null,
    });
    if (again === null) throw new Error('no key between two rebalanced cards');
    return again;
  }
}
