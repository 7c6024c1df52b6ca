import { Module } from '@nestjs/common';
import { AccountsModule } from './accounts/accounts.module';
import { KernelModule } from './shared/kernel.module';

@Module({
  imports: [KernelModule, AccountsModule],
})
export class AppModule {}
