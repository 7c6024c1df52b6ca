import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Every test process: quiet logs, fast bcrypt, and the schema the global setup migrated.
process.env.NODE_ENV = 'test';
process.env.LOG_LEVEL ??= 'silent';
process.env.BCRYPT_COST = '4';
process.env.MIGRATIONS_RUN = 'false';
process.env.AUTH_THROTTLE_LIMIT ??= '1000';
process.env.INVITE_THROTTLE_LIMIT ??= '1000';
process.env.DB_POOL_SIZE ??= '5';
process.env.MAIL_DIR ??= join(tmpdir(), 'worklane-test-mail');
