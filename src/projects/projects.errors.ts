import { DomainError } from '../shared/http/domain-error';

export class ProjectNameTaken extends DomainError {
  constructor() {
    super(
      'project_name_taken',
      'conflict',
      'A project with this name already exists in the organization.',
    );
  }
}

export class ProjectArchivedError extends DomainError {
  /** `action`: what the caller tried (`add tasks`, `move cards`). */
  constructor(action = 'add tasks') {
    super('project_archived', 'conflict', `The project is archived: unarchive it to ${action}.`);
  }
}
