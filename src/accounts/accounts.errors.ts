import { DomainError } from '../shared/http/domain-error';

/** Same answer for an unknown email and a wrong password: no account enumeration. */
export class InvalidCredentials extends DomainError {
  constructor() {
    super('invalid_credentials', 'unauthorized', 'The email or password is incorrect.');
  }
}

export class EmailTaken extends DomainError {
  constructor() {
    super('email_taken', 'conflict', 'An account with this email already exists.');
  }
}

/** Unknown, expired, revoked or already spent refresh token. */
export class InvalidRefreshToken extends DomainError {
  constructor() {
    super('invalid_refresh_token', 'unauthorized', 'The refresh token is invalid or has expired.');
  }
}

export class RefreshTokenReused extends DomainError {
  constructor() {
    super(
      'refresh_token_reused',
      'unauthorized',
      'This refresh token was already used; the session has been revoked. Sign in again.',
    );
  }
}

export class WrongPassword extends DomainError {
  constructor() {
    super('wrong_password', 'forbidden', 'The current password is incorrect.');
  }
}

/** No such token (never issued, mistyped, or one for another purpose). */
export class InvalidEmailToken extends DomainError {
  constructor() {
    super('invalid_token', 'bad_request', 'The token is not valid.');
  }
}

/** A real token that was used already, has expired, or was replaced by a newer one. */
export class EmailTokenGone extends DomainError {
  constructor() {
    super(
      'token_expired',
      'gone',
      'The token was already used, has expired or was replaced by a newer one: ask for a new email.',
    );
  }
}
