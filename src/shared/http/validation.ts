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

/**
 * Paths of strings holding a NUL character, which PostgreSQL text cannot store. Walks with
 * an explicit stack, never recursion, so no nesting can overflow the call stack.
 */
function nulFields(root: unknown): string[] {
  const found: string[] = [];
  const stack: Array<[unknown, string]> = [[root, '']];
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) found.push(path || 'value');
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], `${path}[${i}]`]);
    } else if (value && typeof value === 'object') {
      const entries = Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, v] = entries[i]!;
        stack.push([v, path ? `${path}.${k}` : k]);
      }
    }
  }
  return found;
}

/** A DTO body must be a JSON object: ValidationPipe would read `null` as `{}` (a no-op 200). */
function isObjectBody(value: unknown): boolean {
  return (
    value === undefined || (typeof value === 'object' && value !== null && !Array.isArray(value))
  );
}

/** A class with validation rules, not a primitive or a raw `@Body() body: unknown`. */
function isDto(metadata: ArgumentMetadata): boolean {
  const type = metadata.metatype;
  return !!type && ![String, Boolean, Number, Array, Object].includes(type as never);
}

/**
 * Whitelisting with `forbidNonWhitelisted`: an unknown field is an error, so no client can
 * set ids, org or role by mass assignment. Every bad field is reported at once. Strings
 * with a NUL character are refused here for every body and query, rather than failing
 * as a 500 when PostgreSQL meets them. A body where a DTO is expected must be a JSON object.
 */
class RequestValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && isDto(metadata) && !isObjectBody(value)) {
      throw new ValidationFailed([{ field: 'body', message: 'must be a JSON object' }]);
    }
    if (metadata.type === 'body' || metadata.type === 'query') {
      const bad = nulFields(value);
      if (bad.length > 0) {
        throw new ValidationFailed(
          bad.map((field) => ({ field, message: 'must not contain NUL characters' })),
        );
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
