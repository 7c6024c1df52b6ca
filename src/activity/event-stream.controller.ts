import { EVERYONE } from '../shared/auth/policy';
import {
  applyDecorators,
  CanActivate,
  Controller,
  ExecutionContext,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Injectable,
  Post,
  Query,
  Req,
  Res,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PassThrough } from 'node:stream';
import { Unauthenticated } from '../shared/auth/jwt-auth.guard';
import { AllowRoles, MembershipGuard, TenantRoute } from '../shared/auth/membership.guard';
import { ACCEPTS_TICKET, IS_TENANT_ROUTE } from '../shared/auth/public.decorator';
import { RequestContext } from '../shared/database/request-context';
import { LoggedEvent } from '../shared/events/event-log.repository';
import { eventData } from '../shared/events/event-message';
import { InvalidField } from '../shared/http/domain-error';
import { ProblemResponses } from '../shared/http/problem.response';
import { requestState } from '../shared/http/request-state';
import { isUuid } from '../shared/uuid';
import { EventDataDocument, EventStreamQuery, EventTicketResponse } from './dto/event-stream.dto';
import { EventStreamService } from './event-stream.service';

/**
 * Link 1 for the stream: a `?ticket=` is spent here and names the caller (its session is
 * then checked by the membership guard, like a token's); without one, the JWT guard has
 * already required a bearer token.
 */
@Injectable()
export class EventTicketGuard implements CanActivate {
  constructor(private readonly streams: EventStreamService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context
      .switchToHttp()
      .getRequest<
        FastifyRequest<{ Params: { orgId?: string }; Querystring: { ticket?: unknown } }>
      >();
    const state = requestState(request);
    if (state.user) return true;
    const { ticket } = request.query;
    const orgId = request.params.orgId;
    const spent =
      typeof ticket === 'string' && /^[\w-]{43}$/.test(ticket) && isUuid(orgId)
        ? await this.streams.redeemTicket(orgId!, ticket)
        : null;
    if (!spent)
      throw new Unauthenticated('The ticket is unknown, used or expired. Ask for a new one.');
    state.user = { id: spent.userId, sessionId: spent.sessionId };
    return true;
  }
}

/** The stream's chain: ticket or token, then membership (404 to outsiders), every role. */
function EventStreamRoute() {
  return applyDecorators(
    SetMetadata(IS_TENANT_ROUTE, true),
    SetMetadata(ACCEPTS_TICKET, true),
    UseGuards(EventTicketGuard, MembershipGuard),
    AllowRoles(...EVERYONE),
    ApiBearerAuth(),
    ApiParam({ name: 'orgId', format: 'uuid' }),
    ApiNotFoundResponse({ description: 'Not a member, or no such org (the two look the same)' }),
  );
}

@ApiTags('activity')
@ApiExtraModels(EventDataDocument)
@Controller('orgs/:orgId/events')
export class EventStreamController {
  constructor(private readonly streams: EventStreamService) {}

  @Post('ticket')
  @TenantRoute()
  @AllowRoles(...EVERYONE)
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({
    operationId: 'createEventStreamTicket',
    summary: 'A single-use ticket (valid 60 s) to open the event stream from a browser',
    description:
      'EventSource cannot send an Authorization header: open `GET /orgs/{orgId}/events?ticket=…` ' +
      'with this instead. The access token never goes in a URL.',
  })
  @ApiResponse({ status: 201, type: EventTicketResponse })
  @ProblemResponses(401, 404)
  async ticket(): Promise<EventTicketResponse> {
    const state = RequestContext.current()!;
    const { ticket, expiresAt } = await this.streams.issueTicket(
      state.transaction!.manager,
      RequestContext.tenant(),
      state.user!.sessionId,
    );
    return { ticket, expiresAt: expiresAt.toISOString() };
  }

  @Get()
  @EventStreamRoute()
  @ApiOperation({
    operationId: 'streamEvents',
    summary: 'The org’s events, live, as Server-Sent Events (every member)',
    description:
      'Each message: `id` = the event’s position in the org’s log (per org, strictly increasing), ' +
      '`event` = its type, `data` = JSON (see EventData). Resume with `Last-Event-ID` or ' +
      '`?after=`: exactly the events after that position, then live. Member and invite events ' +
      'reach owners and admins only. A comment line every 15 s keeps the stream alive. ' +
      'Authenticate with a bearer token, or with `?ticket=` from POST …/events/ticket.',
  })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'Resume after this position (wins over `after`)',
    schema: { type: 'string', pattern: '^\\d{1,15}$' },
  })
  @ApiQuery({
    name: 'ticket',
    required: false,
    schema: { type: 'string', pattern: '^[\\w-]{43}$' },
  })
  @ApiResponse({
    status: 200,
    description: 'An endless text/event-stream',
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  @ApiResponse({
    status: 410,
    description: 'The position is older than the events kept (EVENT_RETENTION_DAYS)',
  })
  @ProblemResponses(400, 401, 403, 404)
  async stream(
    @Query() query: EventStreamQuery,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const state = RequestContext.current()!;
    const member = RequestContext.tenant();
    const after = positionOf(lastEventId, 'Last-Event-ID') ?? positionOf(query.after, 'after');
    const start = await this.streams.startingPoint(
      state.transaction!.manager,
      member.orgId,
      after,
      lastEventId !== undefined ? 'Last-Event-ID' : 'after',
    );
    // The stream holds no connection: the request's transaction ends before it starts.
    await state.transaction!.commit();

    const body = new PassThrough();
    const sink = {
      send: (event: LoggedEvent) =>
        void body.write(
          `id: ${event.position}\nevent: ${event.type}\ndata: ${JSON.stringify(eventData(event))}\n\n`,
        ),
      comment: (text: string) => void body.write(`: ${text}\n\n`),
      end: () => body.end(),
      get backlog() {
        return body.readableLength + (request.raw.socket?.writableLength ?? 0);
      },
    };
    reply
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('cache-control', 'no-cache, no-transform')
      .header('x-accel-buffering', 'no');
    body.write(`retry: 3000\n: position ${start.after}\n\n`);
    const detach = await this.streams.open(
      member,
      state.user!.sessionId,
      start,
      sink,
      () => undefined,
    );
    request.raw.once('close', detach);
    reply.raw.once('close', detach);
    void reply.send(body);
  }
}

/** A position as a client sends it: a non-negative integer, or a 400 naming where it came from. */
function positionOf(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,15}$/.test(value))
    throw new InvalidField(field, 'must be an event position (a non-negative integer)');
  return Number(value);
}
