import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { one, rows } from '../database/sql';

export type DeliveryStatus = 'queued' | 'sent' | 'failed' | 'cancelled';

export interface QueuedMailRow {
  id: string;
  status: DeliveryStatus;
  recipient: string;
  subject: string;
  textBody: string | null;
  htmlBody: string | null;
  attempts: number;
}

/** Outgoing mail and its delivery state (`queued_mail`). */
@Injectable()
export class MailRepository {
  async insert(
    em: EntityManager,
    mail: {
      orgId: string | null;
      purpose: string;
      to: string;
      subject: string;
      text: string;
      html: string;
    },
  ): Promise<string> {
    const row = await one<{ id: string }>(
      em,
      `INSERT INTO queued_mail (org_id, purpose, recipient, subject, text_body, html_body)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [mail.orgId, mail.purpose, mail.to, mail.subject, mail.text, mail.html],
    );
    return row!.id;
  }

  find(em: EntityManager, id: string): Promise<QueuedMailRow | undefined> {
    return one<QueuedMailRow>(
      em,
      `SELECT id, status, recipient, subject, text_body AS "textBody", html_body AS "htmlBody", attempts
         FROM queued_mail WHERE id = $1`,
      [id],
    );
  }

  /** Sent: recorded before the job is acknowledged; the bodies (and any token) go. */
  async markSent(em: EntityManager, id: string, attempts: number): Promise<void> {
    await em.query(
      `UPDATE queued_mail SET status = 'sent', attempts = $2, sent_at = now(), last_error = NULL,
              text_body = NULL, html_body = NULL, updated_at = now()
        WHERE id = $1`,
      [id, attempts],
    );
  }

  /** A failed attempt; after the last one the email is failed for good (bodies wiped). */
  async markAttemptFailed(
    em: EntityManager,
    id: string,
    attempts: number,
    error: string,
    final: boolean,
  ): Promise<void> {
    await em.query(
      `UPDATE queued_mail SET attempts = $2, last_error = $3, updated_at = now(),
              status = CASE WHEN $4::boolean THEN 'failed' ELSE status END,
              text_body = CASE WHEN $4::boolean THEN NULL ELSE text_body END,
              html_body = CASE WHEN $4::boolean THEN NULL ELSE html_body END
        WHERE id = $1 AND status = 'queued'`,
      [id, attempts, error.slice(0, 1000), final],
    );
  }

  /** A queued email that must not go out any more (its token was replaced or revoked). */
  async cancel(em: EntityManager, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await rows<{ id: string }>(
      em,
      `UPDATE queued_mail SET status = 'cancelled', text_body = NULL, html_body = NULL, updated_at = now()
        WHERE id = ANY($1::uuid[]) AND status = 'queued' RETURNING id`,
      [ids],
    );
  }
}
