import type { MailMessage } from '../mail.service';
import { compose, expiry } from './render';

/** The invitation email (also a resend's): the org and inviter named, the link and code. */
export function inviteMail(input: {
  to: string;
  orgName: string;
  inviterName: string;
  role: string;
  acceptUrl: string;
  token: string;
  expiresAt: Date;
  resent?: boolean;
}): MailMessage {
  return compose(
    input.to,
    `${input.resent ? 'Reminder: you' : 'You'}'re invited to join ${input.orgName} on Worklane`,
    [
      `${input.inviterName} invited you to join ${input.orgName} on Worklane as ${input.role}.`,
      ...(input.resent
        ? ['This invitation replaces any earlier one: older links no longer work.']
        : []),
      { link: input.acceptUrl, label: 'Accept the invitation' },
      { code: input.token, label: 'Or paste this code in the app' },
      `The invitation expires on ${expiry(input.expiresAt)}. If you did not expect it, ignore this email.`,
    ],
  );
}
