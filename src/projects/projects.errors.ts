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
  constructor() {
    super('project_archived', 'conflict', 'The project is archived: unarchive it to add tasks.');
  }
}
