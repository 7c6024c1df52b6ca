import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { cursorParams, one, pastCursor, rows } from '../shared/database/sql';

export interface ProjectRow {
  id: string;
  orgId: string;
  name: string;
  description: string | null;
  archived: boolean;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
  createdKey: string;
}

const COLUMNS = `p.id, p.org_id AS "orgId", p.name, p.description, p.archived, p.created_by AS "createdBy",
  p.created_at AS "createdAt", p.updated_at AS "updatedAt", p.created_at::text AS "createdKey"`;
// What a write answers: the columns without the keyset text, a STABLE cast that no write's
// answer uses (Citus evaluates RETURNING on the shard, where only IMMUTABLE functions run).
const RETURNED = COLUMNS.replace(/, p\.created_at::text AS "createdKey"$/, '');

/** The only project SQL; every method names its org. */
/** `find`'s statement; in a request's opening batch only if `onlyIf` (`ProjectRoute`). */
export function findProjectStatement(
  orgId: string,
  projectId: string,
  lock?: 'share' | 'update',
  onlyIf?: string,
) {
  return {
    sql: `SELECT ${COLUMNS} FROM projects p WHERE p.org_id = $1 AND p.id = $2${onlyIf ? ` AND ${onlyIf}` : ''}
       ${lock === 'update' ? 'FOR UPDATE' : lock === 'share' ? 'FOR SHARE' : ''}`,
    params: [orgId, projectId],
  };
}

@Injectable()
export class ProjectsRepository {
  async insert(
    em: EntityManager,
    p: { orgId: string; name: string; description: string | null; createdBy: string },
  ): Promise<ProjectRow> {
    return (await one<ProjectRow>(
      em,
      `INSERT INTO projects AS p (org_id, name, description, created_by) VALUES ($1, $2, $3, $4) RETURNING ${RETURNED}`,
      [p.orgId, p.name, p.description, p.createdBy],
    ))!;
  }

  /**
   * `share`: the project must not change under the caller (tasks being written in it);
   * concurrent sharers do not wait for each other. `update`: the project itself changes.
   */
  find(
    em: EntityManager,
    orgId: string,
    projectId: string,
    lock?: 'share' | 'update',
  ): Promise<ProjectRow | undefined> {
    const { sql, params } = findProjectStatement(orgId, projectId, lock);
    return one<ProjectRow>(em, sql, params);
  }

  list(
    em: EntityManager,
    orgId: string,
    archived: boolean,
    limit: number,
    after: [string, string] | null,
  ): Promise<ProjectRow[]> {
    return rows<ProjectRow>(
      em,
      `SELECT ${COLUMNS} FROM projects p
        WHERE p.org_id = $1 AND p.archived = $2
          AND ${pastCursor(['p.created_at', 'p.id'], '>', 3)}
        ORDER BY p.created_at, p.id
        LIMIT $5`,
      [orgId, archived, ...cursorParams(after), limit + 1],
    );
  }

  async update(
    em: EntityManager,
    orgId: string,
    projectId: string,
    changes: { name?: string; description?: string | null; archived?: boolean },
  ): Promise<ProjectRow> {
    return (await one<ProjectRow>(
      em,
      `UPDATE projects p SET
          name = CASE WHEN $3 THEN $4 ELSE name END,
          description = CASE WHEN $5 THEN $6 ELSE description END,
          archived = CASE WHEN $7 THEN $8 ELSE archived END,
          updated_at = now()
        WHERE p.org_id = $1 AND p.id = $2 RETURNING ${RETURNED}`,
      [
        orgId,
        projectId,
        changes.name !== undefined,
        changes.name ?? null,
        changes.description !== undefined,
        changes.description ?? null,
        changes.archived !== undefined,
        changes.archived ?? null,
      ],
    ))!;
  }

  /** Its tasks go with it (ON DELETE CASCADE). */
  async delete(em: EntityManager, orgId: string, projectId: string): Promise<void> {
    await em.query(`DELETE FROM projects WHERE org_id = $1 AND id = $2`, [orgId, projectId]);
  }
}
