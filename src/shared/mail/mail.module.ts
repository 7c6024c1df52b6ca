import { Global, Module } from '@nestjs/common';
import { MailQueue } from './mail-queue';
import { MailRepository } from './mail.repository';
import { MailService } from './mail.service';

/** Outgoing mail: `MailQueue.enqueue(em, message)` in the change's transaction. */
@Global()
@Module({ providers: [MailService, MailRepository, MailQueue], exports: [MailQueue] })
export class MailModule {}
