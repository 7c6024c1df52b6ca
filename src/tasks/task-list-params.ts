import { ListOrgTasksQuery, ListTasksQuery } from './dto/list-tasks.query';
import { TaskFilter, TaskOrder } from './tasks.repository';

/** List query → repository filter; `assigneeId=me` is the caller. */
export function filterOf(
  query: Omit<Partial<ListOrgTasksQuery>, 'limit'>,
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

/**
 * Newest first by default; due dates soonest first; priority urgent first; rank top of the
 * column first.
 */
export function orderOf(query: ListTasksQuery): TaskOrder {
  const sort = query.sort ?? 'createdAt';
  const ascending = sort === 'dueDate' || sort === 'rank';
  return { sort, direction: query.order ?? (ascending ? 'asc' : 'desc') };
}
