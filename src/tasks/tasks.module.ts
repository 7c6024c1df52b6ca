import { Module } from '@nestjs/common';
import { ActivityModule } from '../activity/activity.module';
import { ProjectsModule } from '../projects/projects.module';
import { OrgTasksController } from './org-tasks.controller';
import { TaskExportService } from './task-export.service';
import { TaskGuard } from './task.guard';
import { TaskStatsService } from './task-stats.service';
import { BoardController, ProjectTasksController, TaskController } from './tasks.controller';
import { TaskBoardService } from './task-board.service';
import { TaskPlacement } from './task-placement';
import { TasksRepository } from './tasks.repository';
import { TasksService } from './tasks.service';

@Module({
  imports: [ProjectsModule, ActivityModule],
  controllers: [ProjectTasksController, TaskController, BoardController, OrgTasksController],
  providers: [
    TasksRepository,
    TasksService,
    TaskPlacement,
    TaskBoardService,
    TaskStatsService,
    TaskExportService,
    TaskGuard,
  ],
})
export class TasksModule {}
