// @ts-check
import tseslint from 'typescript-eslint';

/** DESIGN §1's module rules, as import bans (`group`: path globs relative to the file). */
const ban = (files, groups, message, allowTypeImports = false) => ({
  files,
  rules: {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      { patterns: [{ group: groups, message, allowTypeImports }] },
    ],
  },
});
const MODULES = ['accounts', 'organizations', 'projects', 'tasks', 'activity', 'webhooks'];
const modulePaths = (names) => names.flatMap((m) => [`**/${m}/*`, `**/${m}`]);

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '**/*.cjs', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  ban(
    ['src/shared/**/*.ts'],
    modulePaths(MODULES),
    'The kernel imports no bounded module: declare a port in src/shared and let the module provide it.',
  ),
  ban(
    ['src/activity/**/*.ts'],
    modulePaths(MODULES.filter((m) => m !== 'activity')),
    'activity depends on nobody: other modules publish events it subscribes to.',
  ),
  ban(
    ['src/accounts/**/*.ts'],
    modulePaths(MODULES.filter((m) => m !== 'accounts')),
    'accounts knows no tenant module: it talks to them through kernel ports.',
  ),
  ban(
    ['src/projects/**/*.ts'],
    modulePaths(['tasks', 'organizations', 'accounts', 'webhooks']),
    'projects never imports tasks (nor another module): tasks use projects, not the other way.',
  ),
  ban(
    ['src/organizations/**/*.ts', 'src/tasks/**/*.ts', 'src/webhooks/**/*.ts'],
    MODULES.map((m) => `**/${m}/*.repository`).concat(MODULES.map((m) => `**/${m}/*.entity`)),
    "A module never imports another module's repository or entity: use its exported service.",
  ),
);
