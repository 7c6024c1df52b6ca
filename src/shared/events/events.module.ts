import { Global, Module } from '@nestjs/common';
import { EventBus } from './event-bus';
import { EventFeed } from './event-feed';
import { EventLogRepository } from './event-log.repository';

/** The domain event bus, each org's event log (the outbox) and its growth feed. */
@Global()
@Module({
  providers: [EventBus, EventLogRepository, EventFeed],
  exports: [EventBus, EventLogRepository, EventFeed],
})
export class EventsModule {}
