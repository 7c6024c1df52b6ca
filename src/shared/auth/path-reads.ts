import { SetMetadata } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { inlineParameters } from '../database/inline-parameters';
import type { OrgRole } from '../database/request-context';
import { uuidLiteral } from '../database/sql';
import type { OpeningRead } from '../database/transaction';
import { requestState } from '../http/request-state';

type Row = Record<string, unknown>;

/**
 * A guard's lookup of a path id (`:projectId`, `:taskId`) that rides in the opening batch
 * with BEGIN, the settings and the membership lookup: a GET of a task then costs one
 * round trip before its COMMIT instead of three, and a change to it two fewer. The guard
 * takes the answer with `openedRead` and loads nothing itself.
 */
export interface PathRead<T> {
  /** The key the guard reads the answer by. */
  name: string;
  /**
   * The guard's statement for this request, locking as the guard would, and finding
   * nothing unless `onlyIf` holds — an SQL condition true only for a caller the route
   * admits, so a refused caller reads and locks nothing. None for a malformed id (the
   * guard answers 404).
   */
  statement(
    request: FastifyRequest,
    orgId: string,
    onlyIf: string,
  ): { sql: string; params: unknown[] } | undefined;
  read(rows: Row[]): T;
}

const PATH_READS = 'worklane:path-reads';

/**
 * Puts a guard's lookup in the route's opening batch. Reads accumulate (a task route is
 * also a project route), in the order the decorators apply: the project before the task.
 */
export function PathReadOf(read: PathRead<unknown>): ClassDecorator & MethodDecorator {
  return ((target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const holder = (descriptor?.value ?? target) as object;
    const list = (Reflect.getMetadata(PATH_READS, holder) ?? []) as PathRead<unknown>[];
    Reflect.defineMetadata(PATH_READS, [...list, read], holder);
  }) as ClassDecorator & MethodDecorator;
}

/** The path reads of a route (its controller's, then its handler's). */
export function pathReadsOf(targets: object[]): PathRead<unknown>[] {
  return targets.flatMap(
    (target) => (Reflect.getMetadata(PATH_READS, target) ?? []) as PathRead<unknown>[],
  );
}

const ROLES = new Set<string>(['owner', 'admin', 'member', 'viewer']);

/**
 * The route's path reads as opening-batch reads, each answering only if the caller is a
 * member of the org (holding one of `roles`, when the route names them).
 */
export function openingPathReads(
  reads: PathRead<unknown>[],
  request: FastifyRequest,
  orgId: string,
  userId: string,
  roles: readonly OrgRole[] | undefined,
): Array<{ name: string; read: OpeningRead<unknown> }> {
  if (reads.length === 0) return [];
  const roleSql = roles
    ? ` AND m.role IN (${roles.map((role) => `'${admitted(role)}'`).join(', ')})`
    : '';
  const onlyIf = `EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = ${uuidLiteral(orgId)} AND m.user_id = ${uuidLiteral(userId)}${roleSql})`;
  const out: Array<{ name: string; read: OpeningRead<unknown> }> = [];
  for (const pathRead of reads) {
    const statement = pathRead.statement(request, orgId, onlyIf);
    if (!statement) continue;
    out.push({
      name: pathRead.name,
      read: {
        statements: [inlineParameters(statement.sql, statement.params)],
        read: ([rows]) => pathRead.read(rows!),
      },
    });
  }
  return out;
}

function admitted(role: string): string {
  if (!ROLES.has(role)) throw new Error(`not a role: ${JSON.stringify(role)}`);
  return role;
}

/** What the opening batch answered for `name`: `{ value }`, or undefined if it did not ask. */
export function openedRead<T>(request: FastifyRequest, name: string): { value: T } | undefined {
  const opened = requestState(request).opened;
  return opened && name in opened ? { value: opened[name] as T } : undefined;
}

const ANSWERED_BY_OPENING_BATCH = 'worklane:answered-by-opening-batch';

/**
 * A read whose handler answers from what the guard chain resolved (a task, a project) and
 * queries nothing more: its opening batch carries the COMMIT as well, so the request costs
 * one round trip in all. A handler that queried anyway would find its transaction ended.
 */
export const AnsweredByOpeningBatch = () => SetMetadata(ANSWERED_BY_OPENING_BATCH, true);

export function answeredByOpeningBatch(targets: object[]): boolean {
  return targets.some((target) => Reflect.getMetadata(ANSWERED_BY_OPENING_BATCH, target) === true);
}
