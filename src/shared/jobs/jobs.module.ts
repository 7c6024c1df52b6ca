import { Global, Module } from '@nestjs/common';
import { JobRunner } from './job-runner';
import { Jobs } from './jobs';

/**
 * Durable background jobs on PostgreSQL (pg-boss): `Jobs` is the port modules use —
 * `register` / `schedule` in onModuleInit, `enqueue(em, ...)` in a change's transaction.
 */
@Global()
@Module({ providers: [JobRunner, Jobs], exports: [Jobs] })
export class JobsModule {}
