import { Module } from '@nestjs/common';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { MeController } from './me.controller';
import { ProfileService } from './profile.service';
import { SessionsRepository } from './sessions.repository';
import { UsersRepository } from './users.repository';

@Module({
  controllers: [AuthController, MeController],
  providers: [AuthService, ProfileService, UsersRepository, SessionsRepository],
})
export class AccountsModule {}
