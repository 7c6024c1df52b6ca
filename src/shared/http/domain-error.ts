/** How a domain error reads over HTTP; the kernel owns the mapping, services never do. */
export type ErrorKind =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'gone'
  | 'precondition_failed'
  | 'unprocessable'
  | 'too_many_requests'
  | 'service_unavailable';

export const STATUS_OF: Record<ErrorKind, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  precondition_failed: 412,
  unprocessable: 422,
  too_many_requests: 429,
  service_unavailable: 503,
};

export interface FieldError {
  field: string;
  message: string;
}

/**
 * A rule of the domain said no. Each module subclasses it with a stable `code`
 * (`last_owner_required`), which becomes the problem `type` clients can branch on.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    readonly kind: ErrorKind,
    message: string,
    readonly errors?: FieldError[],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The generic "no such thing here": also what a caller gets for another tenant's ids. */
export class NotFound extends DomainError {
  constructor(what = 'resource') {
    super('not_found', 'not_found', `The ${what} was not found.`);
  }
}

export class Forbidden extends DomainError {
  constructor(message = 'Your role does not allow this action.') {
    super('forbidden', 'forbidden', message);
  }
}

/** A bad value that only the domain can detect (e.g. an assignee who is not a member). */
export class InvalidField extends DomainError {
  constructor(field: string, message: string) {
    super('validation_failed', 'bad_request', `${field}: ${message}`, [{ field, message }]);
  }
}
