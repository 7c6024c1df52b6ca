import { Module } from '@nestjs/common';
import { AuditLogController } from './audit-log.controller';
import { AuditLogRepository } from './audit-log.repository';
import { AuditLogService } from './audit-log.service';
import { EventStreamController, EventTicketGuard } from './event-stream.controller';
import { EventStreamService } from './event-stream.service';
import { EventTicketsRepository } from './event-tickets.repository';

/**
 * The audit log and the event stream: subscribes to domain events and reads the org's
 * event log; owns no other module's data, imports none.
 */
@Module({
  controllers: [AuditLogController, EventStreamController],
  providers: [
    AuditLogRepository,
    AuditLogService,
    EventStreamService,
    EventTicketsRepository,
    EventTicketGuard,
  ],
  exports: [AuditLogService],
})
export class ActivityModule {}
