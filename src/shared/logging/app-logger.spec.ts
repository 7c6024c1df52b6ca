import { prettyLogs } from './app-logger';

describe('prettyLogs', () => {
  const tty = process.stdout.isTTY;
  afterEach(() => {
    process.stdout.isTTY = tty;
  });

  it.each([
    ['pretty', 'production', false, true],
    ['json', 'development', true, false],
    ['auto', 'development', true, true],
    ['auto', 'development', false, false],
    ['auto', 'production', true, false],
  ] as const)(
    'LOG_FORMAT=%s, NODE_ENV=%s, terminal %s → pretty %s',
    (format, env, isTty, pretty) => {
      process.stdout.isTTY = isTty;
      expect(prettyLogs(format, env)).toBe(pretty);
    },
  );
});
