import { DomainError } from '../shared/http/domain-error';

export class StaleTask extends DomainError {
  constructor(current: number) {
    super(
      'stale_version',
      'precondition_failed',
      `The task changed since you read it (it is now at version ${current}); nothing was changed. Re-read and retry.`,
    );
  }
}
