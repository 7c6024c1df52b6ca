import { Transform } from 'class-transformer';
import { IsOptional, ValidateIf } from 'class-validator';

/**
 * May be left out, but not sent as null: the field has no empty value, so `null` must be
 * a 400, not a NOT NULL violation further down. (class-validator's IsOptional lets null by.)
 */
export const Optional = () => ValidateIf((_, value) => value !== undefined);

/** May be left out, or sent as null to clear it. */
export const Nullable = () => IsOptional();

/** Trims strings before validation. */
export const Trim = () =>
  Transform(({ value }) => (typeof value === 'string' ? value.trim() : value));
