import { Injectable } from '@nestjs/common';
import { RequestContext } from '../shared/database/request-context';
import { UnitOfWork } from '../shared/database/unit-of-work';
import { StatsResponse } from './dto/task.dto';
import { TasksRepository } from './tasks.repository';

/** The dashboard: one SQL round trip of aggregates. */
@Injectable()
export class TaskStatsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly repo: TasksRepository,
  ) {}

  async stats(projectId?: string): Promise<StatsResponse> {
    const { orgId } = RequestContext.tenant();
    const s = await this.uow.run((em) => this.repo.stats(em, orgId, projectId));
    return {
      total: s.total,
      byStatus: { todo: s.todo, in_progress: s.in_progress, done: s.done, blocked: s.blocked },
      completed: s.done,
      pending: s.total - s.done,
      overdue: s.overdue,
      byAssignee: s.by_assignee,
    };
  }
}
