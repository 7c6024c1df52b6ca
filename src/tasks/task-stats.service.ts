import { Injectable } from '@nestjs/common';
import { RequestContext } from '../shared/database/request-context';
import { UnitOfWork } from '../shared/database/unit-of-work';
import { StatsResponse } from './dto/task-stats.dto';
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
    const groups = await this.uow.run((em) => this.repo.stats(em, orgId, projectId));
    const totals = groups.find((g) => g.total_row) ?? {
      total: 0,
      todo: 0,
      in_progress: 0,
      done: 0,
      blocked: 0,
      overdue: 0,
    };
    const byAssignee = groups
      .filter((g) => !g.total_row)
      .map((g) => ({ assigneeId: g.assignee_id, count: g.total }))
      .sort(
        (a, b) =>
          b.count - a.count || (a.assigneeId ?? '\uffff').localeCompare(b.assigneeId ?? '\uffff'),
      );
    return {
      total: totals.total,
      byStatus: {
        todo: totals.todo,
        in_progress: totals.in_progress,
        done: totals.done,
        blocked: totals.blocked,
      },
      completed: totals.done,
      pending: totals.total - totals.done,
      overdue: totals.overdue,
      byAssignee,
    };
  }
}
