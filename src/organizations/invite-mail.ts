import type { MailMessage } from '../shared/mail/mail.service';

const escape = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** The invitation email: plain text and HTML, with the accept link and the token. */
export function inviteMail(input: {
  to: string;
  orgName: string;
  inviterName: string;
  role: string;
  acceptUrl: string;
  token: string;
  expiresAt: Date;
}): MailMessage {
  const expires = input.expiresAt.toUTCString();
  return {
    to: input.to,
    preview: `accept link: ${input.acceptUrl}`,
    subject: `You're invited to join ${input.orgName} on Worklane`,
    text: [
      `${input.inviterName} invited you to join ${input.orgName} on Worklane as ${input.role}.`,
      '',
      `Accept the invitation: ${input.acceptUrl}`,
      '',
      `Or paste this code in the app: ${input.token}`,
      '',
      `The invitation expires on ${expires}. If you did not expect it, ignore this email.`,
    ].join('\n'),
    html: `<p>${escape(input.inviterName)} invited you to join <strong>${escape(input.orgName)}</strong> on Worklane as ${escape(input.role)}.</p>
<p><a href="${escape(input.acceptUrl)}">Accept the invitation</a></p>
<p>Or paste this code in the app: <code>${escape(input.token)}</code></p>
<p>The invitation expires on ${escape(expires)}. If you did not expect it, ignore this email.</p>`,
  };
}
