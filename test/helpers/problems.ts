import type { Response } from 'supertest';

/** The content type of every error answer (RFC 9457 problem details). */
export const PROBLEM = /application\/problem\+json/;

/** Status first, but a failure shows the whole body. */
export function expectStatus(res: Response, status: number): void {
  expect({ status: res.status, body: res.body }).toMatchObject({ status });
}

/**
 * A problem+json answer with this status (in the status line and the body), a type and a
 * title; with `code`, a type that ends in `/<code>`.
 */
export function expectProblem(res: Response, status: number, code?: string): void {
  expect({ status: res.status, body: res.body }).toMatchObject({
    status,
    body: {
      status,
      type: code ? expect.stringMatching(new RegExp(`/${code}$`)) : expect.any(String),
      title: expect.any(String),
    },
  });
  expect(res.headers['content-type']).toMatch(PROBLEM);
}

/** The fields a 400 names in `errors`, each once, sorted. */
export function fieldsOf(res: Response): string[] {
  return [
    ...new Set<string>((res.body.errors ?? []).map((e: { field: string }) => e.field)),
  ].sort();
}
