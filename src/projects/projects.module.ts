import { Module } from '@nestjs/common';
import { ProjectGuard } from './project.guard';
import { ProjectController, ProjectsController } from './projects.controller';
import { ProjectsRepository } from './projects.repository';
import { ProjectsService } from './projects.service';

@Module({
  controllers: [ProjectsController, ProjectController],
  providers: [ProjectsRepository, ProjectsService, ProjectGuard],
  exports: [ProjectsService, ProjectGuard],
})
export class ProjectsModule {}
