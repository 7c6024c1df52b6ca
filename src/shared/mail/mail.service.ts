import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { createTransport, Transporter } from 'nodemailer';
import { Env } from '../config/env';
import { DomainError } from '../http/domain-error';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Logged when mail goes to the folder instead of SMTP (development): e.g. the link. */
  preview?: string;
}

export class MailUnavailable extends DomainError {
  constructor() {
    super(
      'mail_unavailable',
      'service_unavailable',
      'The email could not be sent; nothing was changed. Try again later.',
    );
  }
}

/**
 * Sends mail over SMTP (SMTP_URL), or — without it — writes each message as an `.eml`
 * file to MAIL_DIR and logs it, so that invites work end to end on a bare machine.
 */
@Injectable()
export class MailService {
  private readonly logger = new Logger('Mail');
  private readonly transport: Transporter;
  private readonly from: string;
  private readonly dir?: string;

  constructor(config: ConfigService<Env, true>) {
    this.from = config.get('MAIL_FROM', { infer: true });
    const smtpUrl = config.get('SMTP_URL', { infer: true });
    if (smtpUrl) {
      this.transport = createTransport(smtpUrl, {
        connectionTimeout: 5000,
        greetingTimeout: 5000,
        socketTimeout: 10000,
      });
    } else {
      this.dir = resolve(config.get('MAIL_DIR', { infer: true }));
      this.transport = createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
    }
  }

  /** Sends or throws MailUnavailable (503), so the caller's transaction rolls back. */
  async send(message: MailMessage): Promise<void> {
    try {
      const { preview, ...mail } = message;
      const info = await this.transport.sendMail({ from: this.from, ...mail });
      if (this.dir) {
        await mkdir(this.dir, { recursive: true });
        const file = join(this.dir, `${Date.now()}-${randomBytes(4).toString('hex')}.eml`);
        await writeFile(file, (info as unknown as { message: Buffer }).message);
        this.logger.log(
          `mail to ${message.to} written to ${file}${preview ? ` — ${preview}` : ''}`,
        );
      }
    } catch (error) {
      this.logger.error(`mail to ${message.to} failed: ${String(error)}`);
      throw new MailUnavailable();
    }
  }
}
