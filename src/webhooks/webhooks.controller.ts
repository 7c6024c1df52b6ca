import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AllowRoles, TenantRoute } from '../shared/auth/membership.guard';
import { IdParam } from '../shared/http/id-param.pipe';
import { Idempotent } from '../shared/http/idempotency.interceptor';
import { Page, PageOf, PageQuery } from '../shared/http/pagination';
import { ProblemResponses } from '../shared/http/problem.response';
import {
  CreatedWebhookResponse,
  CreateWebhookDto,
  DeliveryResponse,
  RotatedSecretResponse,
  UpdateWebhookDto,
  WebhookResponse,
} from './dto/webhook.dto';
import { WebhookDeliveriesService } from './webhook-deliveries.service';
import { WebhookPermissions } from './webhook.policy';
import { WebhooksService } from './webhooks.service';

const webhookId = () => new IdParam('webhook');

@ApiTags('webhooks')
@TenantRoute()
@AllowRoles(...WebhookPermissions.manage)
@Controller('orgs/:orgId/webhooks')
export class WebhooksController {
  constructor(
    private readonly webhooks: WebhooksService,
    private readonly deliveries: WebhookDeliveriesService,
  ) {}

  @Post()
  @Idempotent()
  @ApiOperation({
    operationId: 'createWebhook',
    summary:
      'Register a webhook endpoint; the answer shows its signing secret, once (owner, admin)',
  })
  @ApiResponse({ status: 201, type: CreatedWebhookResponse })
  @ProblemResponses(400, 401, 403, 404, 422)
  create(@Body() body: CreateWebhookDto): Promise<CreatedWebhookResponse> {
    return this.webhooks.create(body);
  }

  @Get()
  @ApiOperation({ operationId: 'listWebhooks', summary: 'Webhooks, oldest first (owner, admin)' })
  @ApiResponse({ status: 200, type: PageOf(WebhookResponse) })
  @ProblemResponses(400, 401, 403, 404)
  list(@Query() query: PageQuery): Promise<Page<WebhookResponse>> {
    return this.webhooks.list(query.limit, query.cursor);
  }

  @Get(':webhookId')
  @ApiParam({ name: 'webhookId', format: 'uuid' })
  @ApiOperation({ operationId: 'getWebhook', summary: 'One webhook, without its secret' })
  @ApiResponse({ status: 200, type: WebhookResponse })
  @ProblemResponses(401, 403, 404)
  get(@Param('webhookId', webhookId()) id: string): Promise<WebhookResponse> {
    return this.webhooks.get(id);
  }

  @Patch(':webhookId')
  @ApiParam({ name: 'webhookId', format: 'uuid' })
  @ApiOperation({
    operationId: 'updateWebhook',
    summary: 'Change the URL, events, description; disable, or revive a disabled one',
  })
  @ApiResponse({ status: 200, type: WebhookResponse })
  @ProblemResponses(400, 401, 403, 404)
  update(
    @Param('webhookId', webhookId()) id: string,
    @Body() body: UpdateWebhookDto,
  ): Promise<WebhookResponse> {
    return this.webhooks.update(id, body);
  }

  @Delete(':webhookId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiParam({ name: 'webhookId', format: 'uuid' })
  @ApiOperation({ operationId: 'deleteWebhook', summary: 'Delete the webhook and its deliveries' })
  @ApiResponse({ status: 204 })
  @ProblemResponses(401, 403, 404)
  delete(@Param('webhookId', webhookId()) id: string): Promise<void> {
    return this.webhooks.delete(id);
  }

  @Post(':webhookId/rotate-secret')
  @HttpCode(HttpStatus.OK)
  @ApiParam({ name: 'webhookId', format: 'uuid' })
  @ApiOperation({
    operationId: 'rotateWebhookSecret',
    summary: 'A new signing secret, shown once; the old one also signs for 24 h',
  })
  @ApiResponse({ status: 200, type: RotatedSecretResponse })
  @ProblemResponses(401, 403, 404)
  rotateSecret(@Param('webhookId', webhookId()) id: string): Promise<RotatedSecretResponse> {
    return this.webhooks.rotateSecret(id);
  }

  @Get(':webhookId/deliveries')
  @ApiParam({ name: 'webhookId', format: 'uuid' })
  @ApiOperation({
    operationId: 'listWebhookDeliveries',
    summary: 'Deliveries of the webhook, newest first, with their attempts',
  })
  @ApiResponse({ status: 200, type: PageOf(DeliveryResponse) })
  @ProblemResponses(400, 401, 403, 404)
  deliveriesOf(
    @Param('webhookId', webhookId()) id: string,
    @Query() query: PageQuery,
  ): Promise<Page<DeliveryResponse>> {
    return this.deliveries.list(id, query.limit, query.cursor);
  }

  @Post(':webhookId/deliveries/:deliveryId/redeliver')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiParam({ name: 'webhookId', format: 'uuid' })
  @ApiParam({ name: 'deliveryId', format: 'uuid' })
  @ApiOperation({
    operationId: 'redeliverWebhookDelivery',
    summary: 'Send a finished delivery again (same webhook-id, a new chain of attempts)',
  })
  @ApiResponse({ status: 202, type: DeliveryResponse })
  @ProblemResponses(401, 403, 404, 409)
  redeliver(
    @Param('webhookId', webhookId()) id: string,
    @Param('deliveryId', new IdParam('delivery')) deliveryId: string,
  ): Promise<DeliveryResponse> {
    return this.deliveries.redeliver(id, deliveryId);
  }
}
