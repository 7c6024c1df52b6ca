import { Idempotent } from '../shared/http/idempotency.interceptor';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../shared/auth/current-user.decorator';
import { AllowRoles, TenantRoute } from '../shared/auth/membership.guard';
import type { AuthenticatedUser } from '../shared/database/request-context';
import { Page, PageOf, PageQuery } from '../shared/http/pagination';
import { ProblemResponses } from '../shared/http/problem.response';
import { CreateOrganizationDto, RenameOrganizationDto } from './dto/organization.dto';
import { OrganizationResponse } from './dto/organization.response';
import { OrgPermissions } from './organization.policy';
import { OrganizationsService } from './organizations.service';

@ApiTags('orgs')
@ApiBearerAuth()
@Controller('orgs')
export class OrganizationsController {
  constructor(private readonly orgs: OrganizationsService) {}

  @Post()
  @Idempotent()
  @ApiOperation({
    operationId: 'createOrganization',
    summary: 'Create an org; the caller becomes its owner',
  })
  @ApiResponse({ status: 201, type: OrganizationResponse })
  @ProblemResponses(400, 401)
  create(
    @CurrentUser() user: AuthenticatedUser,
    @Body() body: CreateOrganizationDto,
  ): Promise<OrganizationResponse> {
    return this.orgs.create(user.id, body.name);
  }

  @Get()
  @ApiOperation({
    operationId: 'listOrganizations',
    summary: "The caller's orgs, with the caller's role in each",
  })
  @ApiResponse({ status: 200, type: PageOf(OrganizationResponse) })
  @ProblemResponses(400, 401)
  list(
    @CurrentUser() user: AuthenticatedUser,
    @Query() query: PageQuery,
  ): Promise<Page<OrganizationResponse>> {
    return this.orgs.listMine(user.id, query.limit, query.cursor);
  }
}

@ApiTags('orgs')
@TenantRoute()
@Controller('orgs/:orgId')
export class OrganizationController {
  constructor(private readonly orgs: OrganizationsService) {}

  @Get()
  @AllowRoles(...OrgPermissions.read)
  @ApiOperation({ operationId: 'getOrganization', summary: 'The org, with the caller’s role' })
  @ApiResponse({ status: 200, type: OrganizationResponse })
  @ProblemResponses(401, 404)
  get(): Promise<OrganizationResponse> {
    return this.orgs.current();
  }

  @Patch()
  @AllowRoles(...OrgPermissions.rename)
  @ApiOperation({ operationId: 'renameOrganization', summary: 'Rename the org (owner, admin)' })
  @ApiResponse({ status: 200, type: OrganizationResponse })
  @ProblemResponses(400, 401, 403, 404)
  rename(@Body() body: RenameOrganizationDto): Promise<OrganizationResponse> {
    return this.orgs.rename(body.name);
  }

  @Delete()
  @HttpCode(HttpStatus.NO_CONTENT)
  @AllowRoles(...OrgPermissions.delete)
  @ApiOperation({
    operationId: 'deleteOrganization',
    summary: 'Delete the org and everything in it (owner)',
  })
  @ApiResponse({ status: 204 })
  @ProblemResponses(401, 403, 404)
  delete(): Promise<void> {
    return this.orgs.delete();
  }
}
