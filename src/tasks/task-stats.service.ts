import { Injectable } from '@nestjs/common';
import { RequestContext } from '../shared/database/request-context';
import { UnitOfWork } from '../shared/database/unit-of-work';
import { StatsResponse } from './dto/task-stats.dto';
import { TasksRepository, TaskStatus } from './tasks.repository';

/** The dashboard: one SQL round trip of counts per (assignee, status), summed here. */
@Injectable()
export class TaskStatsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly repo: TasksRepository,
  ) {}

  async stats(projectId?: string): Promise<StatsResponse> {
    const { orgId } = RequestContext.tenant();
    const groups = await this.uow.run((em) => this.repo.stats(em, orgId, projectId));
    return statsOf(groups);
  }
}

/** The dashboard from the stats statement's rows: a row per (assignee, status). */
export function statsOf(
  groups: ReadonlyArray<{
    assignee_id: string | null;
    status: TaskStatus;
    n: number;
    past_due: number;
  }>,
): StatsResponse {
  const byStatus = { todo: 0, in_progress: 0, done: 0, blocked: 0 };
  const perAssignee = new Map<string | null, number>();
  let overdue = 0;
  for (const g of groups) {
    byStatus[g.status] += g.n;
    perAssignee.set(g.assignee_id, (perAssignee.get(g.assignee_id) ?? 0) + g.n);
    if (g.status !== 'done') overdue += g.past_due;
  }
  const total = byStatus.todo + byStatus.in_progress + byStatus.done + byStatus.blocked;
  const byAssignee = [...perAssignee]
    .map(([assigneeId, count]) => ({ assigneeId, count }))
    .sort(
      (a, b) =>
        b.count - a.count || (a.assigneeId ?? '\uffff').localeCompare(b.assigneeId ?? '\uffff'),
    );
  return {
    total,
    byStatus,
    completed: byStatus.done,
    pending: total - byStatus.done,
    overdue,
    byAssignee,
  };
}
