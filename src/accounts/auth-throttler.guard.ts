import { Injectable, SetMetadata } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerRequest } from '@nestjs/throttler';
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
