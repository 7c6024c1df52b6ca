import { Body, Controller, HttpCode, HttpStatus, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { CurrentUser } from '../shared/auth/current-user.decorator';
import { Public } from '../shared/auth/public.decorator';
import type { AuthenticatedUser } from '../shared/database/request-context';
import { ApiThrottled } from '../shared/http/openapi';
import { ProblemResponses } from '../shared/http/problem.response';
import { SkipThrottle } from '@nestjs/throttler';
import { AuthThrottlerGuard, ThrottleByFamily } from './auth-throttler.guard';
import { AuthService } from './auth.service';
import { LoginDto, RefreshDto, RegisterDto } from './dto/auth.dto';
import { AuthResponse, TokenPairResponse } from './dto/auth.response';

const client = (req: FastifyRequest) => ({ userAgent: req.headers['user-agent'], ip: req.ip });

@ApiTags('auth')
@SkipThrottle({ invites: true })
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

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
}
