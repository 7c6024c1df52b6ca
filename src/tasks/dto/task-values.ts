import type { TaskPriority, TaskSort, TaskStatus } from '../tasks.repository';

/** The values of a task's enumerated fields, as the API validates and documents them. */
export const STATUSES: TaskStatus[] = ['todo', 'in_progress', 'done', 'blocked'];
export const PRIORITIES: TaskPriority[] = ['low', 'medium', 'high', 'urgent'];
export const SORTS: TaskSort[] = ['createdAt', 'updatedAt', 'dueDate', 'priority', 'rank'];
