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
import { Page, PageOf, PageQuery } from '../shared/http/pagination';
import { ProblemResponses } from '../shared/http/problem.response';
import { ChangeRoleDto } from './dto/organization.dto';
import { MemberResponse } from './dto/organization.response';
import { MembersService } from './members.service';
import { OrgPermissions } from './organization.policy';

@ApiTags('members')
@TenantRoute()
@Controller('orgs/:orgId')
export class MembersController {
  constructor(private readonly members: MembersService) {}

  @Get('members')
  @AllowRoles(...OrgPermissions.read)
  @ApiOperation({ operationId: 'listMembers', summary: 'Members of the org, oldest first' })
  @ApiResponse({ status: 200, type: PageOf(MemberResponse) })
  @ProblemResponses(400, 401, 404)
  list(@Query() query: PageQuery): Promise<Page<MemberResponse>> {
    return this.members.list(query.limit, query.cursor);
  }

  @Patch('members/:userId')
  @AllowRoles(...OrgPermissions.manageMembers)
  @ApiParam({ name: 'userId', format: 'uuid' })
  @ApiOperation({
    operationId: 'changeMemberRole',
    summary: 'Change a member’s role',
    description:
      'Owners may set any role (promoting another member to owner hands ownership over). Admins move people ' +
      'among admin, member and viewer, never touching an owner. The last owner cannot be demoted (409).',
  })
  @ApiResponse({ status: 200, type: MemberResponse })
  @ProblemResponses(400, 401, 403, 404, 409)
  changeRole(
    @Param('userId', new IdParam('member')) userId: string,
    @Body() body: ChangeRoleDto,
  ): Promise<MemberResponse> {
    return this.members.changeRole(userId, body.role);
  }

  @Delete('members/:userId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @AllowRoles(...OrgPermissions.manageMembers)
  @ApiParam({ name: 'userId', format: 'uuid' })
  @ApiOperation({
    operationId: 'removeMember',
    summary: 'Remove a member (admins: not an owner; never the last owner)',
  })
  @ApiResponse({ status: 204 })
  @ProblemResponses(401, 403, 404, 409)
  remove(@Param('userId', new IdParam('member')) userId: string): Promise<void> {
    return this.members.remove(userId);
  }

  @Post('leave')
  @HttpCode(HttpStatus.NO_CONTENT)
  @AllowRoles(...OrgPermissions.leave)
  @ApiOperation({
    operationId: 'leaveOrganization',
    summary: 'Leave the org (not as its last owner)',
  })
  @ApiResponse({ status: 204 })
  @ProblemResponses(401, 404, 409)
  leave(): Promise<void> {
    return this.members.leave();
  }
}
