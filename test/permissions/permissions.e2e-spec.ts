import { DiscoveryModule } from '@nestjs/core';
import { createTestApp, TestApp } from '../helpers/app';
import { declaredRoutes } from '../helpers/routes';
import { MATRIX } from './matrix';
import {
  buildContext,
  CellResult,
  Ctx,
  formatTable,
  MatrixRow,
  refusalProblem,
  runCell,
  runMatrix,
} from './runner';

/**
 * The permission matrix (matrix.ts) against the real app: every route × caller answers the
 * status its row states, a refused write changes nothing, and every declared route has a
 * row. Prints the table once; `npm run test:permissions` runs this file alone.
 */
describe('the permission matrix', () => {
  let t: TestApp;
  let ctx: Ctx;

  beforeAll(async () => {
    t = await createTestApp({ extra: { imports: [DiscoveryModule] } });
    ctx = await buildContext(t);
  });
  afterAll(() => t?.close());

  it('has a row for every declared route, and no row for a route that is gone', () => {
    const declared = declaredRoutes(t).map((r) => `${r.method} ${r.path}`);
    const rows = MATRIX.map((r) => r.route);
    expect({ missing: declared.filter((r) => !rows.includes(r)) }).toEqual({ missing: [] });
    expect({ stale: rows.filter((r) => !declared.includes(r)) }).toEqual({ stale: [] });
    expect({ twice: rows.filter((r, i) => rows.indexOf(r) !== i) }).toEqual({ twice: [] });
  });

  it('notices a wrong status, and a refused write that changed state', async () => {
    let writes = 0;
    const row: MatrixRow = {
      route: 'PATCH /api/v1/orgs/{orgId}',
      request: (c) => ({ path: `/api/v1/orgs/${c.w.orgId}`, body: { name: 'Acme' } }),
      sideEffect: async () => writes++,
      expect: { owner: 403, member: 403 },
    };
    expect(await runCell(ctx, row, 'owner')).toMatchObject({
      actual: 200,
      problem: 'answered 200, expected 403',
    });
    expect(await runCell(ctx, row, 'member')).toMatchObject({
      actual: 403,
      problem: 'refused, but changed state',
    });
  });

  it('notices a refusal that is not a bare problem document', () => {
    const problem = 'application/problem+json; charset=utf-8';
    expect(refusalProblem({ status: 403, contentType: problem, body: { status: 403 } })).toBe(
      undefined,
    );
    expect(refusalProblem({ status: 403, contentType: 'application/json', body: {} })).toMatch(
      /not problem\+json/,
    );
    expect(refusalProblem({ status: 404, contentType: problem, body: { status: 403 } })).toMatch(
      /status 403/,
    );
    expect(
      refusalProblem({ status: 404, contentType: problem, body: { status: 404, id: 'x' } }),
    ).toMatch(/carries id/);
  });

  it('answers every cell as the matrix says, and refused writes change nothing', async () => {
    const results: CellResult[] = await runMatrix(ctx, MATRIX);
    console.log(formatTable(MATRIX, results));
    expect(results.filter((r) => r.problem)).toEqual([]);
  }, 600_000);
});
