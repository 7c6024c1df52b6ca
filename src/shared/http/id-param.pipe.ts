import { Injectable, PipeTransform } from '@nestjs/common';
import { isUuid } from '../uuid';
import { NotFound } from './domain-error';

/** A path id that is not a uuid names nothing: 404, like any unknown id (never a 500). */
@Injectable()
export class IdParam implements PipeTransform<string, string> {
  constructor(private readonly what: string) {}

  transform(value: string): string {
    if (!isUuid(value)) throw new NotFound(this.what);
    return value.toLowerCase();
  }
}
