import { Body, Controller, Get, HttpCode, HttpStatus, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../shared/auth/current-user.decorator';
import type { AuthenticatedUser } from '../shared/database/request-context';
import { ProblemResponses } from '../shared/http/problem.response';
import { ChangePasswordDto, UpdateMeDto } from './dto/auth.dto';
import { MeResponse, UserResponse } from './dto/auth.response';
import { ProfileService } from './profile.service';

@ApiTags('me')
@ApiBearerAuth()
@Controller('me')
export class MeController {
  constructor(private readonly profile: ProfileService) {}

  @Get()
  @ApiOperation({
    operationId: 'getMe',
    summary: 'The caller (with emailVerified and pendingEmail) and their memberships',
  })
  @ApiResponse({ status: 200, type: MeResponse })
  @ProblemResponses(401)
  me(@CurrentUser() user: AuthenticatedUser): Promise<MeResponse> {
    return this.profile.me(user.id);
  }

  @Patch()
  @ApiOperation({
    operationId: 'updateMe',
    summary: 'Change name, or ask to change the email address',
    description:
      'A name applies at once. A new `email` does not: it becomes `pendingEmail`, the new address gets a ' +
      'confirmation link (`POST /auth/verify-email`) and the old one a notice; until confirmed, sign-in and ' +
      'invites use the old address. Sending the current address drops a pending change. An address another ' +
      'account uses 409.',
  })
  @ApiResponse({ status: 200, type: UserResponse })
  @ProblemResponses(400, 401, 409)
  update(@CurrentUser() user: AuthenticatedUser, @Body() body: UpdateMeDto): Promise<UserResponse> {
    return this.profile.update(user.id, body);
  }

  @Post('password')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    operationId: 'changePassword',
    summary: 'Change password; ends every other session',
  })
  @ApiResponse({ status: 204 })
  @ProblemResponses(400, 401, 403)
  changePassword(
    @CurrentUser() user: AuthenticatedUser,
    @Body() body: ChangePasswordDto,
  ): Promise<void> {
    return this.profile.changePassword(user, body);
  }
}
