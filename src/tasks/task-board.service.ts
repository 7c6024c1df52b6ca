import { Injectable } from '@nestjs/common';
import { assertAllowed } from '../shared/auth/policy';
import { RequestContext } from '../shared/database/request-context';
import { UnitOfWork } from '../shared/database/unit-of-work';
import { DomainEvent, withResource } from '../shared/events/domain-event';
import { EventBus } from '../shared/events/event-bus';
import { FieldError } from '../shared/http/domain-error';
import { encodeCursor } from '../shared/http/pagination';
import type { Project } from '../projects/projects.service';
import { ProjectsService } from '../projects/projects.service';
import { BoardColumnResponse, BoardQuery, BoardResponse, MoveTaskDto } from './dto/board.dto';
import { TaskResponse } from './dto/task.dto';
import { TaskMoved, TaskStatusChanged } from './task.events';
import { TaskPlacement } from './task-placement';
import { BOARD_STATUSES } from './task-queries';
import { mayUpdate } from './task.policy';
import { compareCards, Gap } from './task-rank';
import { filterOf } from './task-list-params';
import { InvalidNeighbours, StaleTask } from './tasks.errors';
import { CardPlace, TaskRow, TasksRepository } from './tasks.repository';

/** The cursor a board column hands to `GET …/tasks?status=X&sort=rank` (order asc). */
export const RANK_SORT = 'rank:asc';

/** Is the card already in this gap (strictly between its ends, by (rank, id))? */
function sitsIn(card: { id: string; rank: string }, gap: Gap): boolean {
  return (
    (!gap.lower || compareCards(gap.lower, card) < 0) &&
    (!gap.upper || compareCards(card, gap.upper) < 0)
  );
}

/** Kanban use cases: drag a card (move) and read the board. */
@Injectable()
export class TaskBoardService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly repo: TasksRepository,
    private readonly placement: TaskPlacement,
    private readonly projects: ProjectsService,
    private readonly events: EventBus,
  ) {}

  /**
   * Puts the card between its new neighbours in one transaction under the target column's
   * lock: only its own row is written (unless the column needs a rebalance). Neighbours
   * not in the target column → 400, nothing moved. A move to where the card already is
   * changes nothing (no new version, no event).
   */
  async move(
    project: Project,
    task: TaskRow,
    input: MoveTaskDto,
    expectedVersion: number[] | null,
  ): Promise<TaskResponse> {
    const actor = RequestContext.tenant();
    assertAllowed(
      mayUpdate(actor, task),
      'Members may move only the tasks they created or are assigned to.',
    );
    this.projects.assertTakesTasks(project, 'move its cards');
    if (expectedVersion && !expectedVersion.includes(task.version))
      throw new StaleTask(task.version);

    const status = input.status ?? task.status;
    const afterId = input.afterId ?? null;
    const beforeId = input.beforeId ?? null;
    const selfErrors: FieldError[] = [];
    if (afterId === task.id)
      selfErrors.push({ field: 'afterId', message: 'must be another card than the one moved' });
    if (beforeId === task.id)
      selfErrors.push({ field: 'beforeId', message: 'must be another card than the one moved' });
    if (selfErrors.length > 0) throw new InvalidNeighbours(selfErrors);

    return this.uow.run(async (em) => {
      const column = { orgId: actor.orgId, projectId: project.id, status };
      // Lock first, read after: the neighbours' keys then stay as read until commit.
      await this.placement.lock(em, column);
      const ids = [afterId, beforeId].filter((id): id is string => id !== null);
      const found = new Map(
        (ids.length ? await this.repo.places(em, actor.orgId, ids) : []).map((c) => [c.id, c]),
      );
      const errors: FieldError[] = [];
      const neighbour = (field: 'afterId' | 'beforeId', id: string | null): CardPlace | null => {
        if (id === null) return null;
        const card = found.get(id);
        if (card && card.projectId === project.id && card.status === status) return card;
        errors.push({ field, message: `must be a card of the ${status} column of this project` });
        return null;
      };
      const after = neighbour('afterId', afterId);
      const before = neighbour('beforeId', beforeId);
      if (errors.length > 0) throw new InvalidNeighbours(errors);

      const gap = await this.repo.gap(em, column, task.id, after, before);
      if (!gap) {
        throw new InvalidNeighbours([
          { field: 'beforeId', message: 'must be the card directly below afterId' },
        ]);
      }
      if (status === task.status && sitsIn(task, gap)) return TaskResponse.of(task);

      const rank = await this.placement.keyIn(em, column, task.id, gap);
      const updated = await this.repo.update(
        em,
        actor.orgId,
        task.id,
        status === task.status ? { rank } : { status, rank },
      );
      const response = TaskResponse.of(updated);
      const events: DomainEvent[] = [
        new TaskMoved(
          actor.orgId,
          actor.userId,
          task.id,
          project.id,
          { status: task.status, rank: task.rank },
          { status: updated.status, rank: updated.rank },
          { afterId, beforeId },
        ),
      ];
      if (status !== task.status) {
        events.push(
          new TaskStatusChanged(
            actor.orgId,
            actor.userId,
            task.id,
            project.id,
            task.status,
            updated.status,
          ),
        );
      }
      // One append to the org's log for both, each carrying the card as the API answers it.
      await this.events.publish(...events.map((event) => withResource(event, response)));
      return response;
    });
  }

  /** The four columns, each with its total and first cards, in one statement. */
  async board(project: Project, query: BoardQuery): Promise<BoardResponse> {
    const { orgId, userId } = RequestContext.tenant();
    const filter = { ...filterOf(query, userId), projectId: project.id };
    const found = await this.uow.run((em) => this.repo.board(em, orgId, filter, query.perColumn));
    const columns = BOARD_STATUSES.map((status): BoardColumnResponse => ({
      status,
      total: 0,
      tasks: [],
      nextCursor: null,
    }));
    const byStatus = new Map(columns.map((c) => [c.status, c]));
    for (const row of found) {
      const column = byStatus.get(row.column)!;
      column.total = row.total;
      if (row.id) column.tasks.push(TaskResponse.of(row as TaskRow));
    }
    for (const column of columns) {
      const last = column.tasks[column.tasks.length - 1];
      if (last && column.total > column.tasks.length)
        column.nextCursor = encodeCursor([RANK_SORT, last.rank, last.id]);
    }
    return { columns };
  }
}
