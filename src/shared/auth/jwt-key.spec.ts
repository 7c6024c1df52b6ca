import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveJwtSecret } from './jwt-key';

describe('resolveJwtSecret', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'worklane-jwt-'));

  it('takes JWT_SECRET from the environment when it is set', () => {
    const secret = randomBytes(32).toString('base64url');
    const path = join(dir(), 'jwt-secret');
    expect(resolveJwtSecret({ JWT_SECRET: secret, JWT_SECRET_FILE: path })).toEqual({
      secret,
      source: 'environment',
    });
    expect(() => statSync(path)).toThrow();
  });

  it('generates a random secret on first start (mode 0600) and reuses it on the next', () => {
    const path = join(dir(), 'nested', 'jwt-secret');
    const first = resolveJwtSecret({ JWT_SECRET_FILE: path });
    expect(first).toEqual({ secret: expect.any(String), source: 'generated', path });
    expect(first.secret.length).toBeGreaterThanOrEqual(43);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8').trim()).toBe(first.secret);

    const second = resolveJwtSecret({ JWT_SECRET_FILE: path });
    expect(second).toEqual({ secret: first.secret, source: 'loaded', path });

    const elsewhere = resolveJwtSecret({ JWT_SECRET_FILE: join(dir(), 'jwt-secret') });
    expect(elsewhere.secret).not.toBe(first.secret);
  });

  it('refuses a weak secret found in the file', () => {
    const path = join(dir(), 'jwt-secret');
    writeFileSync(path, 'changeme\n', { mode: 0o600 });
    expect(() => resolveJwtSecret({ JWT_SECRET_FILE: path })).toThrow(/jwt-secret/);
  });
});
