import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createTransport, Transporter } from 'nodemailer';
import { Env } from '../config/env';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * The transport: SMTP (SMTP_URL), or — without it — each message written as an `.eml`
 * file to MAIL_DIR and logged, so that mail works end to end on a bare machine. Requests
 * never call it: MailQueue's job does, after the change that caused the email committed.
 */
@Injectable()
export class MailService implements OnApplicationShutdown {
  private readonly logger = new Logger('Mail');
  private readonly transport: Transporter;
  private readonly from: string;
  private readonly dir?: string;
  private readonly production: boolean;

  constructor(config: ConfigService<Env, true>) {
    this.from = config.get('MAIL_FROM', { infer: true });
    this.production = config.get('NODE_ENV', { infer: true }) === 'production';
    const smtpUrl = config.get('SMTP_URL', { infer: true });
    if (smtpUrl) {
      // Pooled: a burst of emails reuses connections instead of a handshake per message.
      const url = new URL(smtpUrl);
      if (!url.searchParams.has('pool')) url.searchParams.set('pool', 'true');
      this.transport = createTransport(url.toString(), {
        connectionTimeout: 5000,
        greetingTimeout: 5000,
        socketTimeout: 30000,
      });
    } else {
      this.dir = resolve(config.get('MAIL_DIR', { infer: true }));
      this.transport = createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
    }
  }

  /** After the job runner stopped (before the pool closes): idle SMTP connections go. */
  onApplicationShutdown(): void {
    this.transport.close();
  }

  /**
   * Sends one message, or throws (the job retries). `id` becomes its Message-ID, so a
   * message a crash made us send twice is recognisable as one.
   */
  async deliver(id: string, message: MailMessage): Promise<void> {
    const info = await this.transport.sendMail({
      from: this.from,
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
      messageId: `<${id}@worklane>`,
    });
    if (this.dir) {
      await mkdir(this.dir, { recursive: true });
      const file = join(this.dir, `${Date.now()}-${id}.eml`);
      await writeFile(file, (info as unknown as { message: Buffer }).message, { mode: 0o600 });
      // The link may carry a token: shown in development only.
      const link = /https?:\/\/\S+/.exec(message.text)?.[0];
      const shown = link && !this.production ? ` — ${link}` : '';
      this.logger.log(`mail ${id} to ${message.to} written to ${file}${shown}`);
    }
  }
}
