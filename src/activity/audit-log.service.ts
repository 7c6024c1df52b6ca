import { Injectable, OnModuleInit } from '@nestjs/common';
import { RequestContext } from '../shared/database/request-context';
import { UnitOfWork } from '../shared/database/unit-of-work';
import { DomainEvent } from '../shared/events/domain-event';
import { EventBus } from '../shared/events/event-bus';
import { decodeCursor, Page, toPage } from '../shared/http/pagination';
import { AuditEntryResponse } from './dto/audit-log.dto';
import { AuditFilter, AuditLogRepository } from './audit-log.repository';

/**
 * Records every domain event of an org as an audit entry, inside the transaction that
 * published it: the change and its entry commit together or not at all.
 */
@Injectable()
export class AuditLogService implements OnModuleInit {
  constructor(
    private readonly bus: EventBus,
    private readonly uow: UnitOfWork,
    private readonly repo: AuditLogRepository,
  ) {}

  onModuleInit(): void {
    this.bus.subscribeBatch(async (events: DomainEvent[], em) => {
      const requestId = RequestContext.current()?.requestId ?? null;
      await this.repo.append(
        em,
        events
          .filter((event) => event.orgId)
          .map((event) => ({
            orgId: event.orgId!,
            actorId: event.actorId,
            action: event.type,
            targetType: event.target?.type ?? null,
            targetId: event.target?.id ?? null,
            metadata: event.payload as Record<string, unknown>,
            requestId,
            createdAt: event.occurredAt,
          })),
      );
    });
  }

  /** One object's history in the current org (e.g. a task's activity), newest first. */
  history(
    target: { type: string; id: string },
    limit: number,
    cursor?: string,
  ): Promise<Page<AuditEntryResponse>> {
    return this.list({ targetType: target.type, targetId: target.id }, limit, cursor);
  }

  async list(
    filter: AuditFilter,
    limit: number,
    cursor?: string,
  ): Promise<Page<AuditEntryResponse>> {
    const { orgId } = RequestContext.tenant();
    const [seq] = decodeCursor(cursor, ['seq']) ?? [null];
    const found = await this.uow.run((em) => this.repo.list(em, orgId, filter, limit, seq));
    return toPage(found, limit, (e) => [e.seq], AuditEntryResponse.of);
  }
}
