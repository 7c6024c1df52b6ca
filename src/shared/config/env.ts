import 'reflect-metadata';
import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  registerDecorator,
  ValidationArguments,
  validateSync,
} from 'class-validator';

// Reads the raw value: implicit conversion would already have made 'false' true.
const toBoolean = ({ obj, key }: { obj: Record<string, unknown>; key: string }) => {
  const value = obj[key];
  return typeof value === 'string'
    ? ['1', 'true', 'yes', 'on'].includes(value.toLowerCase())
    : value;
};

/** Secrets that were published (the old development default) and so protect nothing. */
const PUBLISHED_JWT_SECRETS = ['worklane-development-secret-do-not-use-in-production'];
const PLACEHOLDER_WORDS =
  /change.?me|secret|passw(or)?d|placeholder|example|default|replace|worklane/i;

/**
 * Why a JWT secret is too weak to sign with, or null. Applied in every mode: a guessable
 * secret lets anyone forge a token for any user. A random secret (32 bytes as base64url or
 * hex) passes; short, repetitive, placeholder-like or published ones do not.
 */
export function weakJwtSecretReason(secret: string): string | null {
  if (PUBLISHED_JWT_SECRETS.includes(secret)) return 'is a published development secret';
  if (secret.length < 32) return 'must be at least 32 characters';
  if (new Set(secret).size < 10)
    return 'has too little variety (fewer than 10 distinct characters)';
  if (PLACEHOLDER_WORDS.test(secret)) return 'looks like a placeholder; use a random value';
  return null;
}

function IsStrongJwtSecret(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isStrongJwtSecret',
      target: target.constructor,
      propertyName: propertyName as string,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && !weakJwtSecretReason(value),
        defaultMessage: ({ value }: ValidationArguments) =>
          typeof value === 'string'
            ? `${weakJwtSecretReason(value)} (e.g. openssl rand -base64 32)`
            : 'must be a string',
      },
    });
}

/** The retry schedule of emails: whole seconds, each positive. */
export const DEFAULT_MAIL_RETRY_SCHEDULE = [
  2,
  4,
  8,
  16,
  30,
  60,
  120,
  300,
  600,
  1200,
  1800,
  ...Array<number>(23).fill(3600),
];
export function mailRetrySchedule(env: Pick<Env, 'MAIL_RETRY_SCHEDULE'>): number[] {
  const raw = env.MAIL_RETRY_SCHEDULE?.trim();
  return raw ? raw.split(',').map((s) => Number(s.trim())) : DEFAULT_MAIL_RETRY_SCHEDULE;
}

/** A comma-separated schedule of delays, each a positive whole number of seconds. */
function IsPositiveSchedule(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isPositiveSchedule',
      target: target.constructor,
      propertyName: propertyName as string,
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' &&
          value.split(',').every((s) => /^\d+$/.test(s.trim()) && Number(s) > 0),
        defaultMessage: () => 'every delay must be a whole number of seconds, at least 1',
      },
    });
}

/**
 * Every setting the API reads, with its development default. Validated once at start:
 * a bad value stops the process with a message naming the variable.
 */
export class Env {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @IsString()
  HOST: string = '127.0.0.1';

  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 3000;

  /** PostgreSQL server URL; without it the API runs on the embedded database. */
  @IsOptional()
  @IsString()
  DATABASE_URL?: string;

  /** Where the embedded database keeps its files. */
  @IsString()
  EMBEDDED_DB_DIR: string = '.data/pglite';

  @IsInt()
  @Min(1)
  @Max(200)
  DB_POOL_SIZE: number = 10;

  @IsBoolean()
  @Transform(toBoolean)
  MIGRATIONS_RUN: boolean = true;

  /** HS256 key for access tokens; without it one is generated into JWT_SECRET_FILE. */
  @IsOptional()
  @IsStrongJwtSecret()
  JWT_SECRET?: string;

  /** Where the generated JWT secret is kept (mode 0600) when JWT_SECRET is not set. */
  @IsString()
  JWT_SECRET_FILE: string = '.data/jwt-secret';

  @IsInt()
  @Min(60)
  ACCESS_TOKEN_TTL_SECONDS: number = 900;

  @IsInt()
  @Min(1)
  REFRESH_TOKEN_TTL_DAYS: number = 30;

  @IsInt()
  @Min(4)
  @Max(15)
  BCRYPT_COST: number = 12;

  /**
   * Requests per window for each IP + email on login and register, and for each session
   * family on refresh (with a ceiling of 10× this per IP for refresh).
   */
  @IsInt()
  @Min(1)
  AUTH_THROTTLE_LIMIT: number = 10;

  @IsInt()
  @Min(1)
  AUTH_THROTTLE_TTL_SECONDS: number = 60;

  /** Invite creations and acceptances per minute for each user. */
  @IsInt()
  @Min(1)
  INVITE_THROTTLE_LIMIT: number = 30;

  /** Writes (POST, PUT, PATCH, DELETE) per window for each signed-in user. */
  @IsInt()
  @Min(1)
  WRITE_LIMIT_PER_USER: number = 600;

  /** Writes per window in each org, all its members together. */
  @IsInt()
  @Min(1)
  WRITE_LIMIT_PER_ORG: number = 3000;

  @IsInt()
  @Min(1)
  @Max(3600)
  WRITE_LIMIT_WINDOW_SECONDS: number = 60;

  /**
   * With it, rate-limit counters live in Redis and every instance shares one budget;
   * without it, each instance counts in its own memory.
   */
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  /** Prefix of every rate-limit key in Redis (several deployments may share one). */
  @Matches(/^[\w:.-]{1,64}$/)
  REDIS_KEY_PREFIX: string = 'worklane:';

  @IsOptional()
  @IsString()
  SMTP_URL?: string;

  @IsString()
  MAIL_FROM: string = 'Worklane <no-reply@worklane.local>';

  /** Without SMTP_URL, outgoing mail is written here as .eml files. */
  @IsString()
  MAIL_DIR: string = '.data/mail';

  /**
   * Seconds before each retry of an email that could not be sent, comma-separated (each
   * ±20 % jitter); attempts = retries + 1, then the email is marked failed. The default
   * doubles from 2 s to 30 min, then hourly: about 24 h in all.
   */
  @IsOptional()
  @Matches(/^\s*\d{1,6}(\s*,\s*\d{1,6})*\s*$/, {
    message: 'MAIL_RETRY_SCHEDULE must be a comma list of whole seconds, e.g. 2,4,8',
  })
  @IsPositiveSchedule()
  MAIL_RETRY_SCHEDULE?: string;
  /**
   * The prefix of the mail job queues. Instances that share a database and send through
   * the same mail server use one prefix (the tests give each file its own).
   */
  @Matches(/^[a-z0-9][a-z0-9_-]*$/, {
    message: 'MAIL_QUEUE must be lower-case letters, digits, - or _',
  })
  MAIL_QUEUE: string = 'mail';
  /**
   * Emails of one kind per recipient within MAIL_THROTTLE_TTL_SECONDS: password resets per
   * address, resends per invite (429 beyond).
   */
  @IsInt()
  @Min(1)
  MAIL_THROTTLE_LIMIT: number = 5;
  @IsInt()
  @Min(1)
  MAIL_THROTTLE_TTL_SECONDS: number = 3600;
  /** The front end's base URL, used in links sent by email. */
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  APP_URL: string = 'http://localhost:3000';

  @IsInt()
  @Min(1)
  INVITE_TTL_HOURS: number = 168;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL: string = 'info';

  /** `pretty` lines for people, `json` for machines; `auto`: pretty on a terminal outside production. */
  @IsIn(['auto', 'pretty', 'json'])
  LOG_FORMAT: 'auto' | 'pretty' | 'json' = 'auto';

  // --- HTTP server limits and the CSV export (durations in milliseconds) ---

  /** Time a client has to send a whole request (headers and body); 408 and closed after. */
  @IsInt()
  @Min(100)
  HTTP_REQUEST_TIMEOUT_MS: number = 30_000;

  /** Time a client has to send the request headers; at most HTTP_REQUEST_TIMEOUT_MS. */
  @IsInt()
  @Min(100)
  HTTP_HEADERS_TIMEOUT_MS: number = 10_000;

  /** An idle keep-alive connection is closed after this (above a load balancer's 60 s). */
  @IsInt()
  @Min(100)
  HTTP_KEEP_ALIVE_TIMEOUT_MS: number = 65_000;

  /** A socket with no traffic either way for this long is closed. */
  @IsInt()
  @Min(100)
  HTTP_CONNECTION_TIMEOUT_MS: number = 60_000;

  /**
   * Where the client address comes from: `false` (the socket peer), `true` (the left-most
   * X-Forwarded-For), a hop count, or a comma list of trusted proxy addresses / CIDRs.
   */
  @Matches(/^(false|true|\d{1,2}|[0-9A-Fa-f.:/]+(\s*,\s*[0-9A-Fa-f.:/]+)*)$/, {
    message: 'TRUST_PROXY must be false, true, a hop count or a comma list of addresses',
  })
  TRUST_PROXY: string = 'false';

  /** An export whose client reads nothing for this long is cut and its connection freed. */
  @IsInt()
  @Min(100)
  EXPORT_STALL_TIMEOUT_MS: number = 30_000;

  /** Concurrent CSV exports per instance (each holds a pooled connection); 503 beyond. */
  @IsInt()
  @Min(1)
  EXPORT_MAX_CONCURRENT: number = 3;

  /** Concurrent CSV exports per org; 429 beyond. */
  @IsInt()
  @Min(1)
  EXPORT_MAX_CONCURRENT_PER_ORG: number = 1;

  // --- Background jobs (pg-boss, see src/shared/jobs) ---

  /**
   * Jobs of each task this instance runs at once. 0: an API-only instance — it still
   * enqueues (in the changing transaction) but runs no job and no cron schedule.
   */
  @IsInt()
  @Min(0)
  @Max(32)
  WORKERS: number = 1;

  /** How often an idle worker looks for due jobs (jobs enqueued here wake it at once). */
  @IsInt()
  @Min(500)
  @Max(60_000)
  JOBS_POLL_INTERVAL_MS: number = 2000;

  /** On shutdown, running jobs get this long to finish; then they are released for retry. */
  @IsInt()
  @Min(1000)
  @Max(600_000)
  JOBS_SHUTDOWN_TIMEOUT_MS: number = 15_000;

  /** Outbox events older than this are pruned (a scheduled job); the event stream's horizon. */
  @IsInt()
  @Min(1)
  @Max(3650)
  EVENT_RETENTION_DAYS: number = 7;

  /** Each event stream gets a comment this often (and its session and membership are rechecked). */
  @IsInt()
  @Min(100)
  @Max(300_000)
  EVENTS_HEARTBEAT_MS: number = 15_000;

  // --- Outgoing webhooks (src/webhooks) ---

  /** A delivery attempt that has no complete answer within this long has failed. */
  @IsInt()
  @Min(100)
  @Max(60_000)
  WEBHOOK_TIMEOUT_MS: number = 10_000;

  /**
   * Seconds before each retry of a failed delivery, comma-separated (each ±20 %); after
   * the last the delivery has failed. Tests shorten it (`1,1`).
   */
  @Matches(/^\s*\d{1,6}(\s*,\s*\d{1,6}){0,19}\s*$/, {
    message: 'WEBHOOK_RETRY_SCHEDULE must be 1 to 20 comma-separated whole seconds',
  })
  @IsPositiveSchedule()
  WEBHOOK_RETRY_SCHEDULE: string = '5,30,120,600,1800,3600,7200,14400,28800';

  /**
   * The job queue deliveries go through. Deployments (or test runs) sharing one database
   * keep their deliveries apart with distinct names.
   */
  @Matches(/^[a-z0-9][a-z0-9._-]{0,99}$/, {
    message: 'WEBHOOK_QUEUE must be lower-case letters, digits, dots, dashes or underscores',
  })
  WEBHOOK_QUEUE: string = 'webhooks.deliver';

  /** Succeeded and failed deliveries (bodies, attempts) older than this are pruned hourly. */
  @IsInt()
  @Min(1)
  @Max(3650)
  WEBHOOK_DELIVERY_RETENTION_DAYS: number = 30;
}

/** WEBHOOK_RETRY_SCHEDULE as delays in seconds. */
export function retryScheduleOf(env: Pick<Env, 'WEBHOOK_RETRY_SCHEDULE'>): number[] {
  return env.WEBHOOK_RETRY_SCHEDULE.split(',').map((s) => Number(s.trim()));
}

export function validateEnv(raw: Record<string, unknown>): Env {
  const present = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== ''));
  const env = plainToInstance(Env, present, {
    enableImplicitConversion: true,
    exposeDefaultValues: true,
  });
  const errors = validateSync(env, { whitelist: false });
  if (errors.length > 0) {
    const lines = errors.map(
      (e) => `  ${e.property}: ${Object.values(e.constraints ?? {}).join('; ')}`,
    );
    throw new Error(`Invalid environment:\n${lines.join('\n')}`);
  }
  const limits = httpLimitErrors(env);
  if (limits.length > 0) throw new Error(`Invalid environment:\n${limits.join('\n')}`);
  return env;
}

/** Settings that are valid alone but not together. */
function httpLimitErrors(env: Env): string[] {
  const errors: string[] = [];
  if (env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS)
    errors.push('  HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS');
  if (env.EXPORT_MAX_CONCURRENT >= env.DB_POOL_SIZE)
    errors.push('  EXPORT_MAX_CONCURRENT: must be below DB_POOL_SIZE (exports hold a connection)');
  return errors;
}

/** TRUST_PROXY as Fastify's `trustProxy` option takes it. */
export function trustProxyOf(env: Env): boolean | number | string[] {
  const value = env.TRUST_PROXY.trim();
  if (value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(',').map((part) => part.trim());
}
