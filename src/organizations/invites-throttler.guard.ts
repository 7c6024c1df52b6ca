import { Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { requestState } from '../shared/http/request-state';

/** Invite creation and acceptance, counted per signed-in user (the `invites` throttler). */
@Injectable()
export class InvitesThrottlerGuard extends ThrottlerGuard {
  protected override async getTracker(req: Record<string, any>): Promise<string> {
    return requestState(req as any).user?.id ?? req.ip;
  }
}
