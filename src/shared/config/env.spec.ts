import { randomBytes } from 'node:crypto';
import { mailRetrySchedule, retryScheduleOf, validateEnv } from './env';

const STRONG = randomBytes(32).toString('base64url');

describe('validateEnv', () => {
  it('fills every setting with its development default', () => {
    const env = validateEnv({});
    expect(env).toMatchObject({
      PORT: 3000,
      BCRYPT_COST: 12,
      ACCESS_TOKEN_TTL_SECONDS: 900,
      MIGRATIONS_RUN: true,
      JWT_SECRET_FILE: '.data/jwt-secret',
    });
    expect(env.DATABASE_URL).toBeUndefined();
    // No secret in the code: without JWT_SECRET one is generated into JWT_SECRET_FILE.
    expect(env.JWT_SECRET).toBeUndefined();
  });

  it('reads the mail retry schedule (about 24 h by default) and refuses a malformed one', () => {
    const schedule = mailRetrySchedule(validateEnv({}));
    expect(schedule[0]).toBeLessThanOrEqual(5);
    const total = schedule.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(24 * 3600);
    expect(total).toBeLessThan(25 * 3600);
    expect(mailRetrySchedule(validateEnv({ MAIL_RETRY_SCHEDULE: '1, 1,2' }))).toEqual([1, 1, 2]);
    for (const bad of ['', 'soon', '1,,2', '0,1', '-1', '1.5']) {
      if (bad === '') continue;
      expect(() => validateEnv({ MAIL_RETRY_SCHEDULE: bad })).toThrow(/MAIL_RETRY_SCHEDULE/);
    }
    expect(() => validateEnv({ APP_URL: 'localhost:3000' })).toThrow(/APP_URL/);
    expect(() => validateEnv({ APP_URL: 'ftp://files.example' })).toThrow(/APP_URL/);
    expect(validateEnv({ APP_URL: 'https://app.example.com' }).APP_URL).toBe(
      'https://app.example.com',
    );
  });

  it('converts strings from the environment and treats empty values as unset', () => {
    const env = validateEnv({ PORT: '8080', MIGRATIONS_RUN: 'false', DATABASE_URL: '' });
    expect(env.PORT).toBe(8080);
    expect(env.MIGRATIONS_RUN).toBe(false);
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it('runs one worker per task by default, none for an API-only instance, and bounds the job settings', () => {
    expect(validateEnv({})).toMatchObject({
      WORKERS: 1,
      JOBS_POLL_INTERVAL_MS: 2000,
      JOBS_SHUTDOWN_TIMEOUT_MS: 15_000,
      EVENT_RETENTION_DAYS: 7,
    });
    expect(validateEnv({ WORKERS: '0' }).WORKERS).toBe(0);
    for (const bad of [
      { WORKERS: '-1' },
      { WORKERS: 'many' },
      { WORKERS: '33' },
      { JOBS_POLL_INTERVAL_MS: '100' },
      { JOBS_SHUTDOWN_TIMEOUT_MS: '10' },
      { EVENT_RETENTION_DAYS: '0' },
      { EVENT_RETENTION_DAYS: '1.5' },
    ]) {
      expect(() => validateEnv(bad)).toThrow(new RegExp(Object.keys(bad)[0]));
    }
  });

  it('defaults the webhook settings to the documented schedule and bounds them', () => {
    const env = validateEnv({});
    expect(env).toMatchObject({ WEBHOOK_TIMEOUT_MS: 10_000, WEBHOOK_QUEUE: 'webhooks.deliver' });
    expect(retryScheduleOf(env)).toEqual([5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800]);
    expect(retryScheduleOf(validateEnv({ WEBHOOK_RETRY_SCHEDULE: '1, 1' }))).toEqual([1, 1]);
    for (const bad of [
      { WEBHOOK_TIMEOUT_MS: '10' },
      { WEBHOOK_TIMEOUT_MS: '600000' },
      { WEBHOOK_RETRY_SCHEDULE: '1,,2' },
      { WEBHOOK_RETRY_SCHEDULE: '0,5' },
      { WEBHOOK_RETRY_SCHEDULE: '1.5' },
      { WEBHOOK_RETRY_SCHEDULE: '-5' },
      { WEBHOOK_QUEUE: 'Webhooks Deliver' },
    ]) {
      expect(() => validateEnv(bad)).toThrow(new RegExp(Object.keys(bad)[0]!));
    }
  });

  it('names every bad variable', () => {
    expect(() => validateEnv({ PORT: 'eighty', BCRYPT_COST: '99', JWT_SECRET: 'short' })).toThrow(
      /PORT[\s\S]*JWT_SECRET[\s\S]*BCRYPT_COST|PORT[\s\S]*BCRYPT_COST/,
    );
  });

  it.each(['development', 'test', 'production'])(
    'refuses known-weak JWT secrets in %s',
    (NODE_ENV) => {
      for (const JWT_SECRET of [
        'worklane-development-secret-do-not-use-in-production', // the old public constant
        'x'.repeat(31), // too short
        'a'.repeat(64), // one repeated character
        'abab'.repeat(16), // very low variety
        'changeme-changeme-changeme-changeme',
        'my-super-secret-jwt-key-1234567890',
        'please-change-this-placeholder-value-0',
      ]) {
        expect(() => validateEnv({ NODE_ENV, JWT_SECRET })).toThrow(/JWT_SECRET/);
      }
      expect(validateEnv({ NODE_ENV, JWT_SECRET: STRONG }).JWT_SECRET).toBe(STRONG);
      expect(() =>
        validateEnv({ NODE_ENV, JWT_SECRET: randomBytes(32).toString('hex') }),
      ).not.toThrow();
    },
  );
});
