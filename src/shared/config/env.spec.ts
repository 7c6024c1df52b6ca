import { DEV_JWT_SECRET, validateEnv } from './env';

describe('validateEnv', () => {
  it('fills every setting with its development default', () => {
    const env = validateEnv({});
    expect(env).toMatchObject({
      PORT: 3000,
      BCRYPT_COST: 12,
      ACCESS_TOKEN_TTL_SECONDS: 900,
      MIGRATIONS_RUN: true,
    });
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it('converts strings from the environment and treats empty values as unset', () => {
    const env = validateEnv({ PORT: '8080', MIGRATIONS_RUN: 'false', DATABASE_URL: '' });
    expect(env.PORT).toBe(8080);
    expect(env.MIGRATIONS_RUN).toBe(false);
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it('names every bad variable', () => {
    expect(() => validateEnv({ PORT: 'eighty', BCRYPT_COST: '99', JWT_SECRET: 'short' })).toThrow(
      /PORT[\s\S]*JWT_SECRET[\s\S]*BCRYPT_COST|PORT[\s\S]*BCRYPT_COST/,
    );
  });

  it('refuses the development JWT secret in production', () => {
    expect(() => validateEnv({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET/);
    expect(() => validateEnv({ NODE_ENV: 'production', JWT_SECRET: 'p'.repeat(40) })).not.toThrow();
    expect(DEV_JWT_SECRET.length).toBeGreaterThanOrEqual(32);
  });
});
