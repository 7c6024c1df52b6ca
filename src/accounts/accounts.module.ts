import { Global, Module } from '@nestjs/common';
import { EMAIL_PROOF, SESSION_DIRECTORY } from '../shared/auth/ports';
import { AccountEmailsService } from './account-emails.service';
import { EmailTokensRepository } from './email-tokens.repository';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { MeController } from './me.controller';
import { ProfileService } from './profile.service';
import { SessionsRepository } from './sessions.repository';
import { UsersRepository } from './users.repository';

/**
 * Global because it provides the kernel's ports: SESSION_DIRECTORY (the JWT guard asks it)
 * and EMAIL_PROOF (an accepted email invite proves the address).
 */
@Global()
@Module({
  controllers: [AuthController, MeController],
  providers: [
    AuthService,
    ProfileService,
    UsersRepository,
    SessionsRepository,
    EmailTokensRepository,
    AccountEmailsService,
    { provide: SESSION_DIRECTORY, useExisting: AuthService },
    { provide: EMAIL_PROOF, useExisting: AccountEmailsService },
  ],
  exports: [SESSION_DIRECTORY, EMAIL_PROOF],
})
export class AccountsModule {}
