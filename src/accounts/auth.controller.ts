import { Body, Controller, HttpCode, HttpStatus, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { CurrentUser } from '../shared/auth/current-user.decorator';
import { Public } from '../shared/auth/public.decorator';
import type { AuthenticatedUser } from '../shared/database/request-context';
import { ApiThrottled } from '../shared/http/openapi';
import { ProblemResponses } from '../shared/http/problem.response';
import { SkipThrottle } from '@nestjs/throttler';
import { AccountEmailsService } from './account-emails.service';
import { AuthThrottlerGuard, MailThrottlerGuard, ThrottleByFamily } from './auth-throttler.guard';
import { AuthService } from './auth.service';
import {
  ForgotPasswordDto,
  LoginDto,
  RefreshDto,
  RegisterDto,
  ResetPasswordDto,
  VerifyEmailDto,
} from './dto/auth.dto';
import { AuthResponse, ForgotPasswordResponse, TokenPairResponse } from './dto/auth.response';

const FORGOT_ANSWER =
  'If an account uses this address, a link to reset its password is on its way.';

const client = (req: FastifyRequest) => ({ userAgent: req.headers['user-agent'], ip: req.ip });

@ApiTags('auth')
@SkipThrottle({ invites: true })
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly emails: AccountEmailsService,
  ) {}

  @Post('register')
  @Public()
  @UseGuards(AuthThrottlerGuard)
  @ApiOperation({
    operationId: 'register',
    summary: 'Create an account (and, with inviteToken, join the inviting org)',
  })
  @ApiResponse({ status: 201, type: AuthResponse })
  @ApiThrottled('default')
  @ProblemResponses(400, 403, 404, 409, 410)
  register(@Body() body: RegisterDto, @Req() req: FastifyRequest): Promise<AuthResponse> {
    return this.auth.register(body, client(req));
  }

  @Post('login')
  @Public()
  @HttpCode(HttpStatus.OK)
  @UseGuards(AuthThrottlerGuard)
  @ApiOperation({ operationId: 'login', summary: 'Sign in; starts a new session (one per device)' })
  @ApiResponse({ status: 200, type: AuthResponse })
  @ApiThrottled('default')
  @ProblemResponses(400, 401)
  login(@Body() body: LoginDto, @Req() req: FastifyRequest): Promise<AuthResponse> {
    return this.auth.login(body, client(req));
  }

  @Post('refresh')
  @Public()
  @HttpCode(HttpStatus.OK)
  @ThrottleByFamily()
  @UseGuards(AuthThrottlerGuard)
  @ApiOperation({
    operationId: 'refreshTokens',
    summary: 'Trade a refresh token for a new pair',
    description:
      'The presented token is spent. Presenting a spent token revokes its whole session (401).',
  })
  @ApiResponse({ status: 200, type: TokenPairResponse })
  @ApiThrottled('default')
  @ProblemResponses(400, 401)
  refresh(@Body() body: RefreshDto): Promise<TokenPairResponse> {
    return this.auth.refresh(body.refreshToken);
  }

  @Post('logout')
  @Public()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ operationId: 'logout', summary: "End the refresh token's session (this device)" })
  @ApiResponse({ status: 204 })
  @ProblemResponses(400)
  logout(@Body() body: RefreshDto): Promise<void> {
    return this.auth.logout(body.refreshToken);
  }

  @Post('logout-all')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'logoutAll',
    summary: 'End every session of the caller (all devices)',
  })
  @ApiResponse({ status: 204 })
  @ProblemResponses(401)
  logoutAll(@CurrentUser() user: AuthenticatedUser): Promise<void> {
    return this.auth.logoutAll(user.id);
  }

  @Post('password/forgot')
  @Public()
  @HttpCode(HttpStatus.ACCEPTED)
  @UseGuards(MailThrottlerGuard)
  @ApiOperation({
    operationId: 'forgotPassword',
    summary: 'Mail a password reset link (if an account uses the address)',
    description:
      'Always 202 with the same body, in the same time, for every address: a job decides whether to mail a ' +
      'reset link (valid 1 hour, single use). Throttled per IP and per address (429).',
  })
  @ApiResponse({ status: 202, type: ForgotPasswordResponse })
  @ApiThrottled('default')
  @ProblemResponses(400)
  async forgotPassword(@Body() body: ForgotPasswordDto): Promise<ForgotPasswordResponse> {
    await this.emails.forgot(body.email.toLowerCase());
    return Object.assign(new ForgotPasswordResponse(), { message: FORGOT_ANSWER });
  }

  @Post('password/reset')
  @Public()
  @HttpCode(HttpStatus.NO_CONTENT)
  @UseGuards(MailThrottlerGuard)
  @ApiOperation({
    operationId: 'resetPassword',
    summary: 'Set a new password with a mailed reset token; ends every session',
    description:
      'Every session of the account ends (access tokens die on their next request, refresh tokens are ' +
      'refused) and the address counts as verified. Unknown token 400 `invalid-token`; used, expired or ' +
      'replaced 410 `token-expired`.',
  })
  @ApiResponse({ status: 204 })
  @ApiThrottled('default')
  @ProblemResponses(400, 410)
  resetPassword(@Body() body: ResetPasswordDto): Promise<void> {
    return this.emails.resetPassword(body.token, body.newPassword);
  }

  @Post('verify-email')
  @Public()
  @HttpCode(HttpStatus.NO_CONTENT)
  @UseGuards(MailThrottlerGuard)
  @ApiOperation({
    operationId: 'verifyEmail',
    summary: 'Confirm an address with a mailed token',
    description:
      "A registration's token marks the address verified; an address change's token makes the pending " +
      "address the account's (verified). Unknown token 400 `invalid-token`; used, expired or replaced 410 " +
      '`token-expired`; the new address taken meanwhile 409.',
  })
  @ApiResponse({ status: 204 })
  @ApiThrottled('default')
  @ProblemResponses(400, 409, 410)
  verifyEmail(@Body() body: VerifyEmailDto): Promise<void> {
    return this.emails.verify(body.token);
  }
}
