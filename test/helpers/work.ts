import { api, type TestApp } from './app';
import { expectStatus } from './problems';
import type { SignedInUser } from './users';

/** Projects, tasks and their fixtures: paths, create shortcuts, rows straight into `tasks`. */

export const STATUSES = ['todo', 'in_progress', 'done', 'blocked'] as const;
export const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;

/** The columns of the CSV export, in order (its header row joined by commas). */
export const CSV_COLUMNS = [
  'id',
  'projectId',
  'title',
  'status',
  'priority',
  'assigneeId',
  'dueDate',
  'createdBy',
  'createdAt',
  'updatedAt',
  'completedAt',
];

export interface ProjectView {
  id: string;
  orgId: string;
  name: string;
  description: string | null;
  archived: boolean;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface TaskView {
  id: string;
  orgId: string;
  projectId: string;
  title: string;
  description: string | null;
  status: 'todo' | 'in_progress' | 'done' | 'blocked';
  priority: 'low' | 'medium' | 'high' | 'urgent';
  assigneeId: string | null;
  dueDate: string | null;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  version: number;
  /** Its place in its board column (project, status). */
  rank: string;
}

export const projectsPath = (orgId: string) => api(`/orgs/${orgId}/projects`);
export const projectPath = (orgId: string, projectId: string) =>
  `${projectsPath(orgId)}/${projectId}`;
export const tasksPath = (orgId: string, projectId: string) =>
  `${projectPath(orgId, projectId)}/tasks`;
export const taskPath = (orgId: string, projectId: string, taskId: string) =>
  `${tasksPath(orgId, projectId)}/${taskId}`;
export const orgTasksPath = (orgId: string) => api(`/orgs/${orgId}/tasks`);
export const statsPath = (orgId: string) => api(`/orgs/${orgId}/stats`);
export const exportPath = (orgId: string) => api(`/orgs/${orgId}/tasks/export.csv`);

/** POST a project (a random name unless `body` names it), expecting 201; answers the project. */
export async function postProject(
  t: TestApp,
  orgId: string,
  by: SignedInUser,
  body: Record<string, unknown> = {},
): Promise<ProjectView> {
  const res = await t
    .http()
    .post(projectsPath(orgId))
    .set(by.auth)
    .send({ name: `Project ${Math.random().toString(36).slice(2, 10)}`, ...body });
  expectStatus(res, 201);
  return res.body;
}

/** POST a project, expecting 201; answers its id. */
export async function createProject(
  t: TestApp,
  orgId: string,
  by: SignedInUser,
  name?: string,
): Promise<string> {
  return (await postProject(t, orgId, by, name === undefined ? {} : { name })).id;
}

/** POST a task ('A task' unless `body` has a title), expecting 201; answers the task. */
export async function createTask(
  t: TestApp,
  orgId: string,
  projectId: string,
  by: SignedInUser,
  body: Record<string, unknown> = {},
): Promise<TaskView> {
  const res = await t
    .http()
    .post(tasksPath(orgId, projectId))
    .set(by.auth)
    .send({ title: 'A task', ...body });
  expectStatus(res, 201);
  return res.body;
}

/** YYYY-MM-DD plus n days (calendar arithmetic in UTC, no clock involved). */
export function addDays(date: string, n: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** Today as the database sees it (what `overdue` and due-date filters compare with). */
export async function dbToday(t: TestApp): Promise<string> {
  const [{ today }] = await t.dataSource.query(
    `SELECT to_char(current_date, 'YYYY-MM-DD') AS today`,
  );
  return today;
}

export interface SeedTask {
  projectId: string;
  title: string;
  status: string;
  priority: string;
  assigneeId: string | null;
  dueDate: string | null;
  createdBy: string;
  /** Defaults to now(). */
  createdAt?: string;
  /** Defaults to now(). */
  updatedAt?: string;
  /** Its board key; defaults to the column's default, `a0` (a tie). */
  rank?: string;
}

/**
 * Fixture rows straight into `tasks`, in one statement, as the table owner. completed_at is
 * set exactly when the status is done, to the row's updated_at.
 */
export async function insertTasks(t: TestApp, orgId: string, tasks: SeedTask[]): Promise<void> {
  await t.dataSource.query(
    `INSERT INTO tasks (org_id, project_id, title, status, priority, assignee_id, due_date, created_by,
                        created_at, updated_at, completed_at, rank)
     SELECT $1, x."projectId", x.title, x.status, x.priority, x."assigneeId", x."dueDate", x."createdBy",
            coalesce(x."createdAt", now()), coalesce(x."updatedAt", now()),
            CASE WHEN x.status = 'done' THEN coalesce(x."updatedAt", now()) END, coalesce(x.rank, 'a0')
       FROM jsonb_to_recordset($2::jsonb) AS x("projectId" uuid, title text, status text, priority text,
            "assigneeId" uuid, "dueDate" date, "createdBy" uuid, "createdAt" timestamptz, "updatedAt" timestamptz,
            rank text)`,
    [orgId, JSON.stringify(tasks)],
  );
}

/** `count(*)` of `from` (a table with its WHERE clause), as the table owner. */
export async function countRows(t: TestApp, from: string, params: unknown[] = []): Promise<number> {
  const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM ${from}`, params);
  return n;
}
