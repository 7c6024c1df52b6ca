import type { FastifyRequest } from 'fastify';
import { inlineParameters } from '../database/inline-parameters';
import { uuidLiteral } from '../database/sql';
import type { OpeningRead } from '../database/transaction';
import { requestState } from '../http/request-state';

type Row = Record<string, unknown>;

/**
 * A guard's lookup of a path id (`:projectId`, `:taskId`) that can ride in the opening
 * batch of a read request, with BEGIN, the settings and the membership lookup: a GET of
 * a task then costs one round trip before its COMMIT instead of three. The guard takes
 * the answer with `openedRead`; writes keep loading (and locking) in the guard itself.
 */
export interface PathRead<T> {
  /** The key the guard reads the answer by. */
  name: string;
  /** The statement for this request, or none (a malformed id: the guard answers 404). */
  statement(
    params: Record<string, string | undefined>,
    orgId: string,
  ): { sql: string; params: unknown[] } | undefined;
  read(rows: Row[]): T;
}

/** The route's path reads, outermost first: the project before the task. */
export function pathReadsOf(targets: Array<object | undefined>): PathRead<unknown>[] {
  const found: PathRead<unknown>[] = [];
  for (const target of targets) {
    if (!target) continue;
    const reads = (Reflect.getMetadata(PATH_READS_LIST, target) ?? []) as PathRead<unknown>[];
    found.push(...reads);
  }
  return found;
}

const PATH_READS_LIST = 'worklane:path-reads:list';

/**
 * Registers a path read on a controller or handler. `SetMetadata` would keep only the
 * last of several (a task route is also a project route), so reads accumulate in a list.
 */
export function PathReadOf(read: PathRead<unknown>): ClassDecorator & MethodDecorator {
  return ((target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const holder = (descriptor?.value ?? target) as object;
    const list = (Reflect.getMetadata(PATH_READS_LIST, holder) ?? []) as PathRead<unknown>[];
    Reflect.defineMetadata(PATH_READS_LIST, [...list, read], holder);
  }) as ClassDecorator & MethodDecorator;
}

/**
 * The path reads as opening-batch reads. Each answers only for a member of the org: the
 * rows of an org the caller does not belong to never leave the database, even though the
 * guard would discard them (404) anyway.
 */
export function openingPathReads(
  reads: PathRead<unknown>[],
  request: FastifyRequest,
  orgId: string,
  userId: string,
): Array<{ name: string; read: OpeningRead<unknown> }> {
  const params = (request.params ?? {}) as Record<string, string | undefined>;
  const member = `EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = ${uuidLiteral(orgId)} AND m.user_id = ${uuidLiteral(userId)})`;
  const out: Array<{ name: string; read: OpeningRead<unknown> }> = [];
  for (const pathRead of reads) {
    const statement = pathRead.statement(params, orgId);
    if (!statement) continue;
    out.push({
      name: pathRead.name,
      read: {
        sql: `SELECT found.* FROM (${inlineParameters(statement.sql, statement.params)}) found WHERE ${member}`,
        read: (rows) => pathRead.read(rows),
      },
    });
  }
  return out;
}

/** What the opening batch answered for `name`: `{ value }`, or undefined if it did not ask. */
export function openedRead<T>(request: FastifyRequest, name: string): { value: T } | undefined {
  const opened = requestState(request).opened;
  return opened && name in opened ? { value: opened[name] as T } : undefined;
}
