import { Module } from '@nestjs/common';
import { ActivityModule } from '../activity/activity.module';
import { ProjectsModule } from '../projects/projects.module';
import { OrgTasksController } from './org-tasks.controller';
import { TaskExportService } from './task-export.service';
import { TaskGuard } from './task.guard';
import { TaskStatsService } from './task-stats.service';
import { ProjectTasksController, TaskController } from './tasks.controller';
import { TasksRepository } from './tasks.repository';
import { TasksService } from './tasks.service';

@Module({
  imports: [ProjectsModule, ActivityModule],
  controllers: [ProjectTasksController, TaskController, OrgTasksController],
  providers: [TasksRepository, TasksService, TaskStatsService, TaskExportService, TaskGuard],
})
export class TasksModule {}
