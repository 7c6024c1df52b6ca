import { Idempotent } from '../shared/http/idempotency.interceptor';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiExtraModels,
  ApiOperation,
  ApiParam,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { CurrentUser } from '../shared/auth/current-user.decorator';
import { AllowRoles, TenantRoute } from '../shared/auth/membership.guard';
import type { AuthenticatedUser } from '../shared/database/request-context';
import { IdParam } from '../shared/http/id-param.pipe';
import { Page, PageOf, PageQuery } from '../shared/http/pagination';
import { ApiThrottled } from '../shared/http/openapi';
import { ProblemResponses } from '../shared/http/problem.response';
import {
  AcceptedInviteResponse,
  AcceptInviteDto,
  CreatedInviteResponse,
  CreateInviteDto,
  EmailInviteDto,
  InviteResponse,
  LinkInviteDto,
} from './dto/invite.dto';
import { InviteResendThrottlerGuard, InvitesThrottlerGuard } from './invites-throttler.guard';
import { InvitesService } from './invites.service';
import { OrgPermissions } from './organization.policy';

@ApiTags('invites')
@ApiExtraModels(EmailInviteDto, LinkInviteDto)
@TenantRoute()
@Controller('orgs/:orgId/invites')
export class OrgInvitesController {
  constructor(private readonly invites: InvitesService) {}

  @Post()
  @Idempotent()
  @AllowRoles(...OrgPermissions.manageInvites)
  @SkipThrottle({ default: true })
  @UseGuards(InvitesThrottlerGuard)
  @ApiOperation({
    operationId: 'createInvite',
    summary: 'Invite by email, or make a shareable link code',
    description:
      'With `email`: the invite is emailed (single use): the email is queued with the invite and sent after ' +
      'commit, with retries — the answer never waits for the mail server; `delivery` tells how it goes. ' +
      'Without: a link code usable `maxUses` times, returned only in this response. A new email invite ' +
      'replaces a pending one to the same address.',
  })
  @ApiBody({
    schema: {
      oneOf: [{ $ref: getSchemaPath(EmailInviteDto) }, { $ref: getSchemaPath(LinkInviteDto) }],
    },
  })
  @ApiResponse({ status: 201, type: CreatedInviteResponse })
  @ApiThrottled('invites')
  @ProblemResponses(400, 401, 403, 404, 409)
  create(@Body() body: CreateInviteDto): Promise<CreatedInviteResponse> {
    return this.invites.create(body);
  }

  @Get()
  @AllowRoles(...OrgPermissions.manageInvites)
  @ApiOperation({
    operationId: 'listInvites',
    summary: 'Pending invites (not revoked, used up or expired), newest first',
    description:
      "Each email invite shows its latest email's `delivery` (queued, sent or failed; attempts; last error); " +
      'link invites show `delivery: null`.',
  })
  @ApiResponse({ status: 200, type: PageOf(InviteResponse) })
  @ProblemResponses(400, 401, 403, 404)
  list(@Query() query: PageQuery): Promise<Page<InviteResponse>> {
    return this.invites.listPending(query.limit, query.cursor);
  }

  @Post(':inviteId/resend')
  @HttpCode(HttpStatus.OK)
  @AllowRoles(...OrgPermissions.manageInvites)
  @SkipThrottle({ default: true })
  @UseGuards(InviteResendThrottlerGuard)
  @ApiParam({ name: 'inviteId', format: 'uuid' })
  @ApiOperation({
    operationId: 'resendInvite',
    summary: 'Mail a pending email invite again, with a new token',
    description:
      'The old token stops working at once (410 `invite-token-replaced`); the invite lives its original ' +
      'lifetime again from now; the new email is queued (`delivery`). Admins may not resend an owner invite ' +
      '(403). A link invite 409 `invite-not-mailed`; revoked or expired 410; used 409. Counted with the ' +
      "caller's invite creations, and at most MAIL_THROTTLE_LIMIT times per invite per " +
      'MAIL_THROTTLE_TTL_SECONDS (429).',
  })
  @ApiResponse({ status: 200, type: InviteResponse })
  @ApiThrottled('invites')
  @ProblemResponses(400, 401, 403, 404, 409, 410)
  resend(@Param('inviteId', new IdParam('invite')) inviteId: string): Promise<InviteResponse> {
    return this.invites.resend(inviteId);
  }

  @Delete(':inviteId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @AllowRoles(...OrgPermissions.manageInvites)
  @ApiParam({ name: 'inviteId', format: 'uuid' })
  @ApiOperation({ operationId: 'revokeInvite', summary: 'Revoke an invite' })
  @ApiResponse({ status: 204 })
  @ProblemResponses(401, 403, 404)
  revoke(@Param('inviteId', new IdParam('invite')) inviteId: string): Promise<void> {
    return this.invites.revoke(inviteId);
  }
}

@ApiTags('invites')
@ApiBearerAuth()
@Controller('invites')
export class InvitesController {
  constructor(private readonly invites: InvitesService) {}

  @Post('accept')
  @HttpCode(HttpStatus.OK)
  @SkipThrottle({ default: true })
  @UseGuards(InvitesThrottlerGuard)
  @ApiOperation({
    operationId: 'acceptInvite',
    summary: 'Join an org with an invite token',
    description:
      'Unknown token 404; expired or revoked 410; used up or already a member 409; an email invite for another ' +
      'address 403.',
  })
  @ApiResponse({ status: 200, type: AcceptedInviteResponse })
  @ApiThrottled('invites')
  @ProblemResponses(400, 401, 403, 404, 409, 410)
  accept(
    @CurrentUser() user: AuthenticatedUser,
    @Body() body: AcceptInviteDto,
  ): Promise<AcceptedInviteResponse> {
    return this.invites.accept(user.id, body.token);
  }
}
