import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { concatMap, Observable } from 'rxjs';
import { RequestContext } from '../database/request-context';
import { requestState } from './request-state';

/**
 * Makes what the guard chain learned (user, membership, open transaction) the ambient
 * context of the handler, and commits the request's transaction before the response
 * leaves — a client never sees a 2xx for a change that then fails to commit. Errors
 * roll back in the problem filter, which also sees errors thrown by guards.
 */
@Injectable()
export class RequestContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const state = requestState(context.switchToHttp().getRequest<FastifyRequest>());
    return new Observable((subscriber) =>
      RequestContext.run(state, () =>
        next
          .handle()
          .pipe(
            concatMap(async (value) => {
              await state.transaction?.commit();
              return value;
            }),
          )
          .subscribe(subscriber),
      ),
    );
  }
}
