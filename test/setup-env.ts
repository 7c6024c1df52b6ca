import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Every test process: quiet logs, fast bcrypt, and the schema the global setup migrated.
process.env.NODE_ENV = 'test';
process.env.LOG_LEVEL ??= 'silent';
process.env.BCRYPT_COST = '4';
process.env.MIGRATIONS_RUN = 'false';
process.env.AUTH_THROTTLE_LIMIT ??= '1000';
process.env.INVITE_THROTTLE_LIMIT ??= '1000';
process.env.WRITE_LIMIT_PER_USER ??= '100000';
process.env.WRITE_LIMIT_PER_ORG ??= '100000';
process.env.DB_POOL_SIZE ??= '5';
// A random signing secret per test process: no constant secret anywhere.
process.env.JWT_SECRET ??= randomBytes(32).toString('base64url');
process.env.JWT_SECRET_FILE ??= join(tmpdir(), `worklane-test-jwt-secret-${process.pid}`);
process.env.MAIL_DIR ??= join(tmpdir(), 'worklane-test-mail');
// Mail queues of this test file only: the files' apps share the database, and a mail job
// must be sent by the app (and SMTP capture) of the file that queued it.
process.env.MAIL_QUEUE = `mail-${randomBytes(4).toString('hex')}`;
process.env.MAIL_THROTTLE_LIMIT ??= '1000';
