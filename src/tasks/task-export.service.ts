import { Injectable, Logger } from '@nestjs/common';
import { Readable } from 'node:stream';
import { RequestContext } from '../shared/database/request-context';
import { csvRow } from './csv';
import { TaskFilter, TasksRepository } from './tasks.repository';

const HEADER = [
  'id',
  'projectId',
  'title',
  'status',
  'priority',
  'assigneeId',
  'dueDate',
  'createdBy',
  'createdAt',
  'updatedAt',
  'completedAt',
] as const;

/**
 * CSV export streamed from a database cursor. The stream takes over the request's
 * transaction (the response outlives the handler) and ends it when the last row is
 * written — or when the client goes away.
 */
@Injectable()
export class TaskExportService {
  private readonly logger = new Logger(TaskExportService.name);

  constructor(private readonly repo: TasksRepository) {}

  export(filter: TaskFilter): Readable {
    const state = RequestContext.current()!;
    const { orgId } = RequestContext.tenant();
    const transaction = state.transaction!;
    state.transaction = undefined;
    const repo = this.repo;
    const logger = this.logger;

    async function* lines() {
      let failed = false;
      try {
        yield csvRow([...HEADER]);
        for await (const task of repo.stream(transaction.manager, orgId, filter)) {
          yield csvRow(HEADER.map((column) => task[column]));
        }
      } catch (error) {
        failed = true;
        logger.error(`export failed: ${String(error)}`);
        throw error;
      } finally {
        await (failed ? transaction.rollback() : transaction.commit());
      }
    }
    return Readable.from(lines(), { objectMode: false });
  }
}
