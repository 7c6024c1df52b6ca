import { Module } from '@nestjs/common';
import { AccountsModule } from './accounts/accounts.module';
import { ActivityModule } from './activity/activity.module';
import { OrganizationsModule } from './organizations/organizations.module';
import { KernelModule } from './shared/kernel.module';

@Module({
  imports: [KernelModule, AccountsModule, OrganizationsModule, ActivityModule],
})
export class AppModule {}
