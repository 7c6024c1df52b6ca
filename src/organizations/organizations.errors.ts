import { DomainError } from '../shared/http/domain-error';

export class LastOwnerRequired extends DomainError {
  constructor() {
    super(
      'last_owner_required',
      'conflict',
      'An organization needs at least one owner: promote another member to owner first.',
    );
  }
}

export class AlreadyMember extends DomainError {
  constructor() {
    super('already_member', 'conflict', 'This user is already a member of the organization.');
  }
}

export class InviteNotFound extends DomainError {
  constructor() {
    super('invite_not_found', 'not_found', 'The invite was not found.');
  }
}

export class InviteExpired extends DomainError {
  constructor() {
    super('invite_expired', 'gone', 'The invite has expired.');
  }
}

export class InviteRevokedError extends DomainError {
  constructor() {
    super('invite_revoked', 'gone', 'The invite was revoked.');
  }
}

export class InviteUsedUp extends DomainError {
  constructor() {
    super('invite_used_up', 'conflict', 'The invite has already been used.');
  }
}

export class InviteEmailMismatch extends DomainError {
  constructor() {
    super('invite_email_mismatch', 'forbidden', 'This invite was sent to another email address.');
  }
}
