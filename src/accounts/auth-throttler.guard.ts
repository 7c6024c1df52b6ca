import { Injectable, SetMetadata } from '@nestjs/common';
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
import { claimedFamily } from '../shared/auth/tokens';

const BY_FAMILY = 'worklane:throttle-by-family';

/**
 * How many refreshes from one IP, in multiples of the per-family limit: an IP is shared by
 * everyone behind a proxy or NAT, so its ceiling is generous; it exists only so that one
 * client cannot mint unlimited family buckets with made-up family ids.
 */
export const REFRESH_IP_CEILING_FACTOR = 10;

/** Marks the refresh route: counted per session family, under a generous per-IP ceiling. */
export const ThrottleByFamily = () => SetMetadata(BY_FAMILY, true);

/**
 * Counts sign-in attempts per IP + email, so one attacker cannot lock a victim out from
 * elsewhere and one office behind a NAT does not share a budget.
 *
 * Refresh (`ThrottleByFamily()`) counts twice: per session family — read from the token
 * itself, which names its family, so no database read — with the normal limit, and per IP
 * with `REFRESH_IP_CEILING_FACTOR` times that. Tokens that name no family (garbage, or
 * tokens issued before families were named) share one bucket per IP with the normal limit.
 * So one client's garbage exhausts its own bucket, not the budget of other users' valid
 * refreshes from the same IP; invented family ids buy at most the IP ceiling.
 */
@Injectable()
export class AuthThrottlerGuard extends ThrottlerGuard {
  protected override async getTracker(req: Record<string, any>): Promise<string> {
    const email = typeof req.body?.email === 'string' ? req.body.email.trim().toLowerCase() : '';
    return `${req.ip}|${email}`;
  }

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const byFamily = this.reflector.getAllAndOverride<boolean>(BY_FAMILY, [
      props.context.getHandler(),
      props.context.getClass(),
    ]);
    if (!byFamily) return super.handleRequest(props);
    const req = props.context.switchToHttp().getRequest<Record<string, any>>();
    await super.handleRequest({
      ...props,
      limit: props.limit * REFRESH_IP_CEILING_FACTOR,
      getTracker: async () => `ip|${req.ip}`,
    });
    const family = claimedFamily(req.body?.refreshToken);
    return super.handleRequest({
      ...props,
      getTracker: async () => (family ? `family|${family}` : `no-family|${req.ip}`),
    });
  }
}

/**
 * The mailing and token routes (forgot, reset, verify): counted per IP with the auth
 * limit, and — where the body names an address (forgot) — per address as well, with
 * MAIL_THROTTLE_LIMIT per MAIL_THROTTLE_TTL_SECONDS, so no one floods an inbox from many
 * IPs nor tries many addresses from one.
 */
@Injectable()
export class MailThrottlerGuard extends ThrottlerGuard {
  private readonly perAddress: { limit: number; ttl: number };

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    config: ConfigService<Env, true>,
  ) {
    super(options, storage, reflector);
    this.perAddress = {
      limit: config.get('MAIL_THROTTLE_LIMIT', { infer: true }),
      ttl: config.get('MAIL_THROTTLE_TTL_SECONDS', { infer: true }) * 1000,
    };
  }

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const req = props.context.switchToHttp().getRequest<Record<string, any>>();
    await super.handleRequest({ ...props, getTracker: async () => `ip|${req.ip}` });
    const email = typeof req.body?.email === 'string' ? req.body.email.trim().toLowerCase() : '';
    if (!email) return true;
    return super.handleRequest({
      ...props,
      limit: this.perAddress.limit,
      ttl: this.perAddress.ttl,
      blockDuration: this.perAddress.ttl,
      getTracker: async () => `email|${email}`,
    });
  }
}
