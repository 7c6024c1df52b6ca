import { Client } from 'pg';
import { inlineParameters } from './inline-parameters';

/**
 * An inlined value must mean to PostgreSQL exactly what the bound parameter meant: each
 * case runs both ways on the test database and compares the answers.
 */
describe('inlineParameters', () => {
  let db: Client;
  beforeAll(async () => {
    db = new Client({ connectionString: process.env.DATABASE_URL });
    await db.connect();
  });
  afterAll(() => db.end());

  const cases: Array<[string, unknown[]]> = [
    ['SELECT $1::text AS v', ["it's"]],
    ['SELECT $1::text AS v', ["back\\slash \\' and \\\\ and \\x41"]],
    ['SELECT $1::text AS v', ['ünïcødé ✓ 𝄞']],
    ['SELECT $1::text AS v', ['']],
    ['SELECT $1::text AS v', [null]],
    ['SELECT $1::text AS v, $2::int AS w', ['$2', 7]],
    ['SELECT $1::int + $2 AS v', [40, 2]],
    ['SELECT $1::boolean AS v', [true]],
    ['SELECT $1::numeric AS v', [1.5e-7]],
    ['SELECT $1::uuid AS v', ['0f8fad5b-d9cb-469f-a165-70867728950e']],
    ['SELECT $1::timestamptz AS v', [new Date('2026-12-07T04:30:00.123Z')]],
    ['SELECT $1::date AS v', ['2026-02-28']],
    ['SELECT $1::text[] AS v', [['todo', 'in "quotes"', 'a,b', "o'k", null, 'back\\slash']]],
    ['SELECT $1::jsonb AS v', [{ a: "it's", b: [1, null], c: 'x\\y' }]],
    ['SELECT $1::text AS v', [{ a: 1 }]],
    ['SELECT $1 AS v', ['untyped']],
    [`SELECT 'not $1 here' AS v, $1::text AS w, "v" FROM (SELECT 1 AS "v") x`, ['yes']],
    ['SELECT $1::text ILIKE $2 AS v', ['100% done', '%\\%%']],
    [
      'SELECT $2::int AS v, $1::text AS w, $10::int AS z, $3::int + $4 + $5 + $6 + $7 + $8 + $9 AS r',
      ['a', 2, 3, 4, 5, 6, 7, 8, 9, 10],
    ],
  ];

  it.each(cases)('%s means the same inlined as bound (%j)', async (sql, params) => {
    const bound = await db.query(sql, params);
    const inlined = await db.query(inlineParameters(sql, params));
    expect(inlined.rows).toEqual(bound.rows);
  });

  it('leaves quoted text and identifiers alone', () => {
    expect(inlineParameters(`SELECT '$1', "$1", 'it''s $1', $1`, ['x'])).toBe(
      `SELECT '$1', "$1", 'it''s $1', 'x'`,
    );
  });

  it('refuses what it cannot render faithfully', () => {
    expect(() => inlineParameters('SELECT $$text$$', [])).toThrow(/dollar quoting/);
    expect(() => inlineParameters('SELECT $2', ['only one'])).toThrow(/no value for \$2/);
    expect(() => inlineParameters("SELECT 'open", [])).toThrow(/unterminated/);
    expect(() => inlineParameters('SELECT $1::bytea', [Buffer.from('x')])).toThrow(/cannot inline/);
  });
});
