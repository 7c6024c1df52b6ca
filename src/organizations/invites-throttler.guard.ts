import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  ThrottlerModuleOptions,
  ThrottlerRequest,
  ThrottlerStorage,
} from '@nestjs/throttler';
import { Env } from '../shared/config/env';
import { requestState } from '../shared/http/request-state';

/** Invite creation and acceptance, counted per signed-in user (the `invites` throttler). */
@Injectable()
export class InvitesThrottlerGuard extends ThrottlerGuard {
  protected override async getTracker(req: Record<string, any>): Promise<string> {
    return requestState(req as any).user?.id ?? req.ip;
  }
}

/**
 * A resend counts twice: with the invites the caller makes (per user, as a creation), and
 * per invite — MAIL_THROTTLE_LIMIT emails per MAIL_THROTTLE_TTL_SECONDS — so that no one
 * floods one address with reminders.
 */
@Injectable()
export class InviteResendThrottlerGuard extends InvitesThrottlerGuard {
  private readonly perInvite: { limit: number; ttl: number };

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    config: ConfigService<Env, true>,
  ) {
    super(options, storage, reflector);
    this.perInvite = {
      limit: config.get('MAIL_THROTTLE_LIMIT', { infer: true }),
      ttl: config.get('MAIL_THROTTLE_TTL_SECONDS', { infer: true }) * 1000,
    };
  }

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    await super.handleRequest(props);
    const req = props.context.switchToHttp().getRequest<Record<string, any>>();
    return super.handleRequest({
      ...props,
      limit: this.perInvite.limit,
      ttl: this.perInvite.ttl,
      blockDuration: this.perInvite.ttl,
      getTracker: async () => `resend|${String(req.params?.inviteId)}`,
    });
  }
}
