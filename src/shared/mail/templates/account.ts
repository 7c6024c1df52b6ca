import type { MailMessage } from '../mail.service';
import { compose, expiry } from './render';

/** Sent on registration: proves the address. */
export function verifyEmailMail(input: {
  to: string;
  name: string;
  link: string;
  expiresAt: Date;
}): MailMessage {
  return compose(input.to, 'Confirm your email address for Worklane', [
    `Hello ${input.name},`,
    `Please confirm that ${input.to} is your address on Worklane.`,
    { link: input.link, label: 'Confirm your address' },
    `The link works once and expires on ${expiry(input.expiresAt)}. If you did not sign up, ignore this email.`,
  ]);
}

/** Forgot password: a single-use reset link, valid one hour. */
export function passwordResetMail(input: {
  to: string;
  name: string;
  link: string;
  expiresAt: Date;
}): MailMessage {
  return compose(input.to, 'Reset your Worklane password', [
    `Hello ${input.name},`,
    'Someone (hopefully you) asked to reset the password of your Worklane account.',
    { link: input.link, label: 'Choose a new password' },
    `The link works once and expires on ${expiry(input.expiresAt)}. Resetting signs you out everywhere. If you did not ask for it, ignore this email: your password stays as it is.`,
  ]);
}

/** To the new address of an address change: it applies once confirmed. */
export function emailChangeConfirmMail(input: {
  to: string;
  name: string;
  oldEmail: string;
  link: string;
  expiresAt: Date;
}): MailMessage {
  return compose(input.to, 'Confirm your new email address for Worklane', [
    `Hello ${input.name},`,
    `You asked to change the address of your Worklane account from ${input.oldEmail} to ${input.to}. Until you confirm, ${input.oldEmail} stays in use.`,
    { link: input.link, label: 'Confirm the new address' },
    `The link works once and expires on ${expiry(input.expiresAt)}. If you did not ask for this, ignore this email.`,
  ]);
}

/** To the old address of an address change: a notice, no link. */
export function emailChangeNoticeMail(input: {
  to: string;
  name: string;
  newEmail: string;
  expiresAt: Date;
}): MailMessage {
  return compose(input.to, 'Your Worklane email address is about to change', [
    `Hello ${input.name},`,
    `Someone signed in to your Worklane account asked to change its address to ${input.newEmail}. The change applies only if that address confirms it by ${expiry(input.expiresAt)}.`,
    'If this was not you, change or reset your password now: that cancels the change and signs out every other session.',
  ]);
}
