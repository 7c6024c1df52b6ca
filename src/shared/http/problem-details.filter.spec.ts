import { BadRequestException, NotFoundException } from '@nestjs/common';
import { DomainError } from './domain-error';
import { ProblemDetailsFilter } from './problem-details.filter';

describe('ProblemDetailsFilter.toProblem', () => {
  const filter = new ProblemDetailsFilter();

  it('maps a domain error by its kind and code', () => {
    const problem = filter.toProblem(
      new DomainError('last_owner_required', 'conflict', 'needs an owner'),
    );
    expect(problem).toEqual({
      type: 'https://worklane.dev/problems/last-owner-required',
      title: 'Conflict',
      status: 409,
      detail: 'needs an owner',
    });
  });

  it('maps framework HTTP errors with their status', () => {
    expect(filter.toProblem(new NotFoundException('Cannot GET /x'))).toMatchObject({
      status: 404,
      title: 'Not Found',
    });
    expect(filter.toProblem(new BadRequestException(['a', 'b']))).toMatchObject({
      status: 400,
      detail: 'a; b',
    });
  });

  it('answers 503 when the pool cannot get a connection in time, or the server refuses', () => {
    for (const error of [
      new Error('timeout exceeded when trying to connect'),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      // The server stopping under a transaction, a client whose connection broke, and a
      // Citus shard retired by a tenant's move: each undid the transaction whole.
      Object.assign(new Error('terminating connection due to administrator command'), {
        driverError: { code: '57P01' },
      }),
      new Error('Client has encountered a connection error and is not queryable'),
      new Error('could not find valid entry for shard 102395'),
    ]) {
      expect(filter.toProblem(error)).toMatchObject({
        status: 503,
        type: expect.stringMatching(/database-unavailable$/),
      });
    }
  });

  it('answers 409 when PostgreSQL broke a deadlock or a serialization conflict', () => {
    for (const code of ['40P01', '40001']) {
      const error = Object.assign(new Error('deadlock detected'), { driverError: { code } });
      expect(filter.toProblem(error)).toMatchObject({
        status: 409,
        type: 'https://worklane.dev/problems/concurrent-change',
      });
    }
  });

  it('hides anything else behind a generic 500', () => {
    const problem = filter.toProblem(
      new TypeError("Cannot read properties of undefined (reading 'secret')"),
    );
    expect(problem).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: expect.not.stringMatching(/secret|undefined/),
    });
  });

  it('passes client errors raised by Fastify through with their status', () => {
    const error = Object.assign(new Error('Request body is too large'), { statusCode: 413 });
    expect(filter.toProblem(error)).toMatchObject({ status: 413, title: 'Payload Too Large' });
  });
});
