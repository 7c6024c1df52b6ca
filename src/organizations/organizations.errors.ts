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

/** Only email invites are mailed: a link invite has nothing to resend. */
export class InviteNotMailed extends DomainError {
  constructor() {
    super(
      'invite_not_mailed',
      'conflict',
      'A link invite is not mailed, so it cannot be resent: share its code, or make a new one.',
    );
  }
}

/** The token of an email that a resend replaced: the newest email's token works. */
export class InviteTokenReplaced extends DomainError {
  constructor() {
    super(
      'invite_token_replaced',
      'gone',
      'This invitation was sent again with a new link; use the most recent email.',
    );
  }
}
