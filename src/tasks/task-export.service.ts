import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Readable } from 'node:stream';
import { Env } from '../shared/config/env';
import { RequestContext } from '../shared/database/request-context';
import type { Transaction } from '../shared/database/transaction';
import { DomainError } from '../shared/http/domain-error';
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

export class ExportsBusy extends DomainError {
  constructor(scope: 'org' | 'instance') {
    super(
      scope === 'org' ? 'export_busy' : 'exports_saturated',
      scope === 'org' ? 'too_many_requests' : 'service_unavailable',
      scope === 'org'
        ? 'This organization already has as many exports running as allowed. Retry shortly.'
        : 'The server is running as many exports as it allows. Retry shortly.',
    );
  }
}

/**
 * CSV export streamed from a database cursor. The stream takes over the request's
 * transaction (the response outlives the handler) and holds one pooled connection, so:
 * - the transaction ends when the stream closes, on every path — the last row written,
 *   the client gone (also before the first chunk), an error, or a stall;
 * - a reader that takes nothing for EXPORT_STALL_TIMEOUT_MS is cut;
 * - at most EXPORT_MAX_CONCURRENT exports run per instance (503 beyond) and
 *   EXPORT_MAX_CONCURRENT_PER_ORG per org (429 beyond), so exports never take the pool.
 */
@Injectable()
export class TaskExportService {
  private readonly logger = new Logger(TaskExportService.name);
  private readonly stallMs: number;
  private readonly maxTotal: number;
  private readonly maxPerOrg: number;
  private running = 0;
  private readonly runningByOrg = new Map<string, number>();

  constructor(
    private readonly repo: TasksRepository,
    config: ConfigService<Env, true>,
  ) {
    this.stallMs = config.get('EXPORT_STALL_TIMEOUT_MS', { infer: true });
    this.maxTotal = config.get('EXPORT_MAX_CONCURRENT', { infer: true });
    this.maxPerOrg = config.get('EXPORT_MAX_CONCURRENT_PER_ORG', { infer: true });
  }

  export(filter: TaskFilter): Readable {
    const state = RequestContext.current()!;
    const { orgId } = RequestContext.tenant();
    const release = this.acquire(orgId); // throws before anything is taken over
    const transaction = state.transaction!;
    state.transaction = undefined;

    let stallTimer: NodeJS.Timeout | undefined;
    const stall = {
      waiting: () => {
        clearTimeout(stallTimer);
        stallTimer = setTimeout(() => {
          stream.destroy(new Error(`export stalled: nothing read for ${this.stallMs} ms`));
        }, this.stallMs);
      },
      resumed: () => clearTimeout(stallTimer),
    };
    const source = this.lines(transaction, orgId, filter, stall);
    const stream = Readable.from(source, { objectMode: false });
    stall.waiting(); // until the response starts reading (never, if it is dropped)
    // 'close' follows the generator's own cleanup (cursor closed), whichever way it ended.
    stream.once('close', () => {
      clearTimeout(stallTimer);
      const complete = stream.readableEnded && !stream.errored;
      if (stream.errored) this.logger.warn(`export ended early: ${String(stream.errored)}`);
      void (complete ? transaction.commit() : transaction.rollback())
        .catch((error) => this.logger.error(`export transaction end failed: ${String(error)}`))
        .finally(release);
    });
    return stream;
  }

  private async *lines(
    transaction: Transaction,
    orgId: string,
    filter: TaskFilter,
    stall: { waiting: () => void; resumed: () => void },
  ): AsyncGenerator<string> {
    stall.resumed();
    // A generator suspended at `yield` is waiting for the reader: that is what may stall.
    const emit = function* (line: string) {
      stall.waiting();
      try {
        yield line;
      } finally {
        stall.resumed();
      }
    };
    // A chunk per fetched batch, not per row: a million rows are a few hundred chunks
    // through the stream machinery instead of a million.
    let chunk = csvRow([...HEADER]);
    for await (const batch of this.repo.stream(transaction.manager, orgId, filter)) {
      for (const task of batch) chunk += csvRow(HEADER.map((column) => task[column]));
      yield* emit(chunk);
      chunk = '';
    }
    if (chunk) yield* emit(chunk);
  }

  private acquire(orgId: string): () => void {
    const ofOrg = this.runningByOrg.get(orgId) ?? 0;
    if (ofOrg >= this.maxPerOrg) throw new ExportsBusy('org');
    if (this.running >= this.maxTotal) throw new ExportsBusy('instance');
    this.running += 1;
    this.runningByOrg.set(orgId, ofOrg + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running -= 1;
      const left = (this.runningByOrg.get(orgId) ?? 1) - 1;
      if (left > 0) this.runningByOrg.set(orgId, left);
      else this.runningByOrg.delete(orgId);
    };
  }
}
