import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isDeliverable, isSubscribableType, WEBHOOK_EVENT_TYPES } from './webhook-event-types';

/** Every `readonly type = '…'` of the app's `*.events.ts` files. */
function publishedTypes(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return publishedTypes(path);
    if (!name.endsWith('.events.ts')) return [];
    return [...readFileSync(path, 'utf8').matchAll(/readonly type = '([a-z_.]+)'/g)].map(
      (m) => m[1]!,
    );
  });
}

describe('the webhook event catalogue', () => {
  it('lists every event type the app publishes, except webhook.*', () => {
    const published = publishedTypes(join(__dirname, '..')).filter(isDeliverable).sort();
    expect([...WEBHOOK_EVENT_TYPES]).toEqual([...new Set(published)]);
  });

  it.each([
    ['task.created', true],
    ['task.*', true],
    ['member.*', true],
    ['webhook.created', false],
    ['webhook.*', false],
    ['task.exploded', false],
    ['*', false],
    ['nothing.*', false],
  ])('%s subscribable: %s', (type, ok) => {
    expect(isSubscribableType(type)).toBe(ok);
  });
});
