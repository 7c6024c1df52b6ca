import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EntityManager } from 'typeorm';
import { Env, mailRetrySchedule } from '../config/env';
import { UnitOfWork } from '../database/unit-of-work';
import { JobContext, Jobs } from '../jobs/jobs';
import { MailRepository } from './mail.repository';
import { MailMessage, MailService } from './mail.service';

interface SendJob {
  mailId: string;
}

/**
 * Queued email (DESIGN §5): `enqueue` writes the message and its job in the transaction of
 * the change that causes it — a rolled-back change sends nothing, a committed one always
 * has its email — and the `<MAIL_QUEUE>.send` job delivers it after commit, retried on
 * MAIL_RETRY_SCHEDULE (exponential with jitter, ~24 h) and then marked failed.
 *
 * At most once where it can be: a job is claimed by one worker; the handler skips an
 * email that is no longer `queued`, and records `sent` before the job is acknowledged.
 * (A worker that dies between the SMTP answer and that record sends it again when its
 * job times out: at-least-once, with the same Message-ID.)
 */
@Injectable()
export class MailQueue implements OnModuleInit {
  private readonly logger = new Logger('Mail');
  private readonly prefix: string;
  private readonly schedule: number[];

  constructor(
    private readonly jobs: Jobs,
    private readonly uow: UnitOfWork,
    private readonly repo: MailRepository,
    private readonly transport: MailService,
    config: ConfigService<Env, true>,
  ) {
    this.prefix = config.get('MAIL_QUEUE', { infer: true });
    this.schedule = mailRetrySchedule({
      MAIL_RETRY_SCHEDULE: config.get('MAIL_RETRY_SCHEDULE', { infer: true }),
    });
  }

  /** The name of a mail-related job task (so that queues of one deployment stay together). */
  taskName(kind: string): string {
    return `${this.prefix}.${kind}`;
  }

  onModuleInit(): void {
    this.jobs.register<SendJob>(this.taskName('send'), (job, ctx) => this.send(job, ctx), {
      retrySchedule: this.schedule,
      // Connection, greeting and socket timeouts bound one attempt well below this.
      timeoutSeconds: 120,
    });
  }

  /**
   * Queues `message` in `em`'s transaction; answers the email's id (its delivery state).
   * `orgId`: the org whose owners/admins may read that state (invites), else null.
   */
  async enqueue(
    em: EntityManager,
    message: MailMessage,
    meta: { purpose: string; orgId?: string | null },
  ): Promise<string> {
    const mailId = await this.repo.insert(em, {
      orgId: meta.orgId ?? null,
      purpose: meta.purpose,
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
    });
    await this.jobs.enqueue<SendJob>(em, this.taskName('send'), { mailId });
    return mailId;
  }

  /** Emails still queued that must not go out (their token was replaced): cancelled. */
  cancel(em: EntityManager, mailIds: Array<string | null>): Promise<void> {
    return this.repo.cancel(
      em,
      mailIds.filter((id): id is string => !!id),
    );
  }

  private async send({ mailId }: SendJob, job: JobContext): Promise<void> {
    const mail = await this.uow.system('mail.load', (em) => this.repo.find(em, mailId));
    if (!mail || mail.status !== 'queued' || mail.textBody === null) return;
    try {
      await this.transport.deliver(mail.id, {
        to: mail.recipient,
        subject: mail.subject,
        text: mail.textBody,
        html: mail.htmlBody ?? '',
      });
    } catch (error) {
      const final = job.attempt >= job.maxAttempts;
      const message = error instanceof Error ? error.message : String(error);
      await this.uow.system('mail.attempt_failed', (em) =>
        this.repo.markAttemptFailed(em, mail.id, job.attempt, message, final),
      );
      if (final)
        this.logger.error(
          `mail ${mail.id} (${mail.subject}) failed for good after ${job.attempt} attempts: ${message}`,
        );
      throw error;
    }
    await this.uow.system('mail.sent', (em) => this.repo.markSent(em, mail.id, job.attempt));
  }
}
