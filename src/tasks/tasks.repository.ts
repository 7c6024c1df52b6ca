import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { one, rows } from '../shared/database/sql';
import { exportQuery, listQuery, STATS_SQL, TASK_COLUMNS } from './task-queries';

export type TaskStatus = 'todo' | 'in_progress' | 'done' | 'blocked';
export type TaskPriority = 'low' | 'medium' | 'high' | 'urgent';
export type TaskSort = 'createdAt' | 'updatedAt' | 'dueDate' | 'priority';

export interface TaskRow {
  id: string;
  orgId: string;
  projectId: string;
  title: string;
  description: string | null;
  status: TaskStatus;
  priority: TaskPriority;
  assigneeId: string | null;
  dueDate: string | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
  version: number;
}

export interface TaskFilter {
  projectId?: string;
  statuses?: TaskStatus[];
  priorities?: TaskPriority[];
  assigneeId?: string;
  dueBefore?: string;
  dueAfter?: string;
  overdue?: boolean;
  q?: string;
}

export interface TaskOrder {
  sort: TaskSort;
  direction: 'asc' | 'desc';
}

export type TaskChanges = Partial<
  Pick<TaskRow, 'title' | 'description' | 'status' | 'priority' | 'assigneeId' | 'dueDate'>
>;

/** The only task SQL; every query names its org. */
@Injectable()
export class TasksRepository {
  async insert(
    em: EntityManager,
    task: Pick<
      TaskRow,
      | 'orgId'
      | 'projectId'
      | 'title'
      | 'description'
      | 'status'
      | 'priority'
      | 'assigneeId'
      | 'dueDate'
      | 'createdBy'
    >,
  ): Promise<TaskRow> {
    return (await one<TaskRow>(
      em,
      `INSERT INTO tasks AS t (org_id, project_id, title, description, status, priority, assignee_id, due_date,
                               created_by, completed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $5 = 'done' THEN now() END)
       RETURNING ${TASK_COLUMNS}`,
      [
        task.orgId,
        task.projectId,
        task.title,
        task.description,
        task.status,
        task.priority,
        task.assigneeId,
        task.dueDate,
        task.createdBy,
      ],
    ))!;
  }

  /** A task of the project; locked when it is about to change. */
  find(
    em: EntityManager,
    orgId: string,
    projectId: string,
    taskId: string,
    lock: boolean,
  ): Promise<TaskRow | undefined> {
    return one<TaskRow>(
      em,
      `SELECT ${TASK_COLUMNS} FROM tasks t WHERE t.org_id = $1 AND t.project_id = $2 AND t.id = $3
       ${lock ? 'FOR UPDATE' : ''}`,
      [orgId, projectId, taskId],
    );
  }

  /**
   * One page of a filtered, sorted list: `(sort key, id)` compared with the cursor's, so
   * page 1,000 costs what page 1 costs and concurrent inserts never shift a page.
   */
  list(
    em: EntityManager,
    orgId: string,
    filter: TaskFilter,
    order: TaskOrder,
    limit: number,
    after: [string, string] | null,
  ): Promise<Array<TaskRow & { sortKey: string }>> {
    const { sql, params } = listQuery(orgId, filter, order, limit, after);
    return rows(em, sql, params);
  }

  /** Applies changes, bumps the version and keeps completedAt in step with status. */
  async update(
    em: EntityManager,
    orgId: string,
    taskId: string,
    changes: TaskChanges,
  ): Promise<TaskRow> {
    const sets: string[] = [];
    const params: unknown[] = [orgId, taskId];
    const columns: Record<keyof TaskChanges, string> = {
      title: 'title',
      description: 'description',
      status: 'status',
      priority: 'priority',
      assigneeId: 'assignee_id',
      dueDate: 'due_date',
    };
    let newStatus = 't.status';
    for (const [field, column] of Object.entries(columns) as Array<[keyof TaskChanges, string]>) {
      if (changes[field] === undefined) continue;
      params.push(changes[field]);
      sets.push(`${column} = $${params.length}${field === 'dueDate' ? '::date' : ''}`);
      if (field === 'status') newStatus = `$${params.length}`;
    }
    return (await one<TaskRow>(
      em,
      `UPDATE tasks t SET ${[...sets, 'version = t.version + 1', 'updated_at = now()'].join(', ')},
          completed_at = CASE WHEN ${newStatus} = 'done' THEN coalesce(t.completed_at, now()) END
        WHERE t.org_id = $1 AND t.id = $2
        RETURNING ${TASK_COLUMNS}`,
      params,
    ))!;
  }

  async delete(em: EntityManager, orgId: string, taskId: string): Promise<void> {
    await em.query(`DELETE FROM tasks WHERE org_id = $1 AND id = $2`, [orgId, taskId]);
  }

  /** Unassigns every task of a user leaving the org; answers what changed. */
  unassignAll(
    em: EntityManager,
    orgId: string,
    userId: string,
  ): Promise<Array<{ id: string; projectId: string }>> {
    return rows(
      em,
      `UPDATE tasks SET assignee_id = NULL, version = version + 1, updated_at = now()
        WHERE org_id = $1 AND assignee_id = $2
        RETURNING id, project_id AS "projectId"`,
      [orgId, userId],
    );
  }

  /**
   * The dashboard in one statement and one pass over the org's tasks: GROUPING SETS gives
   * the totals row (grouping = 1) and a row per assignee; no task row leaves the database.
   */
  stats(em: EntityManager, orgId: string, projectId: string | undefined) {
    return rows<{
      total_row: boolean;
      assignee_id: string | null;
      total: number;
      todo: number;
      in_progress: number;
      done: number;
      blocked: number;
      overdue: number;
    }>(em, STATS_SQL, [orgId, projectId ?? null]);
  }

  /**
   * Streams the filtered list through a server-side cursor, a batch at a time: memory
   * stays flat whatever the size. Runs inside the caller's transaction.
   */
  async *stream(
    em: EntityManager,
    orgId: string,
    filter: TaskFilter,
    batch = 500,
  ): AsyncGenerator<TaskRow> {
    const { sql, params } = exportQuery(orgId, filter);
    await em.query(`DECLARE task_export NO SCROLL CURSOR FOR ${sql}`, params);
    try {
      for (;;) {
        const page = await rows<TaskRow>(em, `FETCH ${batch} FROM task_export`);
        yield* page;
        if (page.length < batch) return;
      }
    } finally {
      await em.query(`CLOSE task_export`).catch(() => undefined);
    }
  }
}
