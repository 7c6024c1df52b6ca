import { DomainError, FieldError } from '../shared/http/domain-error';

export class StaleTask extends DomainError {
  constructor(current: number) {
    super(
      'stale_version',
      'precondition_failed',
      `The task changed since you read it (it is now at version ${current}); nothing was changed. Re-read and retry.`,
    );
  }
}

/** A move named neighbours that are not where it says (400, nothing moved). */
export class InvalidNeighbours extends DomainError {
  constructor(errors: FieldError[]) {
    super(
      'validation_failed',
      'bad_request',
      errors.map((e) => `${e.field}: ${e.message}`).join('; '),
      errors,
    );
  }
}
