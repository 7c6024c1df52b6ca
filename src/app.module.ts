import { Module } from '@nestjs/common';
import { AccountsModule } from './accounts/accounts.module';
import { ActivityModule } from './activity/activity.module';
import { OrganizationsModule } from './organizations/organizations.module';
import { ProjectsModule } from './projects/projects.module';
import { KernelModule } from './shared/kernel.module';
import { TasksModule } from './tasks/tasks.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({
  imports: [
    KernelModule,
    AccountsModule,
    OrganizationsModule,
    ActivityModule,
    ProjectsModule,
    TasksModule,
    WebhooksModule,
  ],
})
export class AppModule {}
