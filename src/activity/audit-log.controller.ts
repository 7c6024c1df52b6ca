import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AllowRoles, TenantRoute } from '../shared/auth/membership.guard';
import { Page, PageOf } from '../shared/http/pagination';
import { ProblemResponses } from '../shared/http/problem.response';
import { AuditEntryResponse, AuditLogQuery } from './dto/audit-log.dto';
import { AuditLogService } from './audit-log.service';

/** DESIGN §4: only owners and admins read the audit log. */
const READ_AUDIT_LOG = ['owner', 'admin'] as const;

@ApiTags('activity')
@TenantRoute()
@Controller('orgs/:orgId/audit-log')
export class AuditLogController {
  constructor(private readonly auditLog: AuditLogService) {}

  @Get()
  @AllowRoles(...READ_AUDIT_LOG)
  @ApiOperation({
    operationId: 'listAuditLog',
    summary: 'The org’s audit log, newest first (owner, admin)',
  })
  @ApiResponse({ status: 200, type: PageOf(AuditEntryResponse) })
  @ProblemResponses(400, 401, 403, 404)
  list(@Query() query: AuditLogQuery): Promise<Page<AuditEntryResponse>> {
    const { limit, cursor, ...filter } = query;
    return this.auditLog.list(filter, limit, cursor);
  }
}
