import type { MailMessage } from '../mail.service';

/** Every value that goes into HTML is escaped; templates never build markup from input. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** A link of the front end (APP_URL) carrying a token. */
export function appLink(appUrl: string, path: string, token: string): string {
  return `${appUrl.replace(/\/+$/, '')}${path}?token=${encodeURIComponent(token)}`;
}

/** How an expiry reads in an email: UTC, unambiguous. */
export const expiry = (at: Date): string => at.toUTCString();

/** A paragraph of plain text, or a call to action: the two parts are made from the same blocks. */
export type Block = string | { link: string; label: string } | { code: string; label: string };

/** One message in both parts, from the same blocks: a plain-text and an HTML rendering. */
export function compose(to: string, subject: string, blocks: Block[]): MailMessage {
  const text = blocks
    .map((b) =>
      typeof b === 'string' ? b : 'link' in b ? `${b.label}: ${b.link}` : `${b.label}: ${b.code}`,
    )
    .join('\n\n');
  const body = blocks
    .map((b) =>
      typeof b === 'string'
        ? `<p>${escapeHtml(b)}</p>`
        : 'link' in b
          ? `<p><a href="${escapeHtml(b.link)}">${escapeHtml(b.label)}</a></p>`
          : `<p>${escapeHtml(b.label)}: <code>${escapeHtml(b.code)}</code></p>`,
    )
    .join('\n');
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>
<body style="font-family: sans-serif; line-height: 1.5">
${body}
<p style="color: #666; font-size: 12px">Worklane</p>
</body></html>`;
  return { to, subject, text: `${text}\n\n-- \nWorklane\n`, html };
}
