import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { DomainError, FieldError } from './domain-error';

export class ValidationFailed extends DomainError {
  constructor(errors: FieldError[]) {
    super('validation_failed', 'bad_request', 'The request has invalid fields.', errors);
  }
}

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** Paths of strings holding a NUL character, which PostgreSQL text cannot store. */
function nulFields(value: unknown, path = ''): string[] {
  if (typeof value === 'string') return value.includes('\u0000') ? [path || 'value'] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => nulFields(v, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => nulFields(v, path ? `${path}.${k}` : k));
  }
  return [];
}

/**
 * Whitelisting with `forbidNonWhitelisted`: an unknown field is an error, so no client can
 * set ids, org or role by mass assignment. Every bad field is reported at once. Strings
 * with a NUL character are refused here for every body and query, rather than failing
 * as a 500 when PostgreSQL meets them.
 */
class RequestValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' || metadata.type === 'query') {
      const bad = nulFields(value);
      if (bad.length > 0) {
        throw new ValidationFailed(bad.map((field) => ({ field, message: 'must not contain NUL characters' })));
      }
    }
    return super.transform(value, metadata);
  }
}

export function validationPipe(): ValidationPipe {
  return new RequestValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ValidationFailed(flatten(errors)),
  });
}
