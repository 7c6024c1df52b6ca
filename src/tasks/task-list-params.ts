import { ListOrgTasksQuery, ListTasksQuery } from './dto/task.dto';
import { TaskFilter, TaskOrder } from './tasks.repository';

/** List query → repository filter; `assigneeId=me` is the caller. */
export function filterOf(
  query: ListTasksQuery & Partial<ListOrgTasksQuery>,
  callerId: string,
): TaskFilter {
  return {
    projectId: query.projectId,
    statuses: query.status,
    priorities: query.priority,
    assigneeId: query.assigneeId === 'me' ? callerId : query.assigneeId,
    dueBefore: query.dueBefore,
    dueAfter: query.dueAfter,
    overdue: query.overdue,
    q: query.q,
  };
}

/** Newest first by default; due dates soonest first; priority urgent first. */
export function orderOf(query: ListTasksQuery): TaskOrder {
  const sort = query.sort ?? 'createdAt';
  return { sort, direction: query.order ?? (sort === 'dueDate' ? 'asc' : 'desc') };
}
