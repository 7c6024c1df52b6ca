import { Global, Module } from '@nestjs/common';
import { EMAIL_PROOF, SESSION_DIRECTORY, USER_DIRECTORY } from '../shared/auth/ports';
import { AccountEmailsService } from './account-emails.service';
import { EmailTokensRepository } from './email-tokens.repository';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { MeController } from './me.controller';
import { ProfileService } from './profile.service';
import { SessionsRepository } from './sessions.repository';
import { AccountsUserDirectory } from './user-directory';
import { UsersRepository } from './users.repository';

/**
 * Global because it provides the kernel's ports: SESSION_DIRECTORY (the JWT guard asks it)
 * EMAIL_PROOF (an accepted email invite proves the address) and USER_DIRECTORY (who a
 * user is, for member lists and invites: no other module reads the users table).
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
    AccountsUserDirectory,
    { provide: SESSION_DIRECTORY, useExisting: AuthService },
    { provide: EMAIL_PROOF, useExisting: AccountEmailsService },
    { provide: USER_DIRECTORY, useExisting: AccountsUserDirectory },
  ],
  exports: [SESSION_DIRECTORY, EMAIL_PROOF, USER_DIRECTORY],
})
export class AccountsModule {}
