import { Global, Module } from '@nestjs/common';
import { SESSION_DIRECTORY } from '../shared/auth/ports';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { MeController } from './me.controller';
import { ProfileService } from './profile.service';
import { SessionsRepository } from './sessions.repository';
import { UsersRepository } from './users.repository';

/** Global because it provides the kernel's SESSION_DIRECTORY port (the JWT guard asks it). */
@Global()
@Module({
  controllers: [AuthController, MeController],
  providers: [
    AuthService,
    ProfileService,
    UsersRepository,
    SessionsRepository,
    { provide: SESSION_DIRECTORY, useExisting: AuthService },
  ],
  exports: [SESSION_DIRECTORY],
})
export class AccountsModule {}
