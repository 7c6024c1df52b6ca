import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';
import { STATUS_CODES } from 'node:http';

class FieldErrorDoc {
  @ApiProperty({ type: String, example: 'title' }) field!: string;
  @ApiProperty({ type: String, example: 'title must be shorter than or equal to 200 characters' })
  message!: string;
}

/** RFC 9457 problem details, as every error of the API answers. */
export class ProblemDocument {
  @ApiProperty({
    type: String,
    example: 'https://worklane.dev/problems/validation-failed',
    description: 'A URI naming the kind of problem, or `about:blank`',
  })
  type!: string;
  @ApiProperty({ type: String, example: 'Bad Request' }) title!: string;
  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599, example: 400 }) status!: number;
  @ApiProperty({ type: String }) detail!: string;
  @ApiPropertyOptional({ type: String, description: 'The request path' }) instance?: string;
  @ApiPropertyOptional({ type: [FieldErrorDoc], description: 'Every bad field, for a 400' })
  errors?: FieldErrorDoc[];
}

/** Documents the error statuses a route can answer, each as application/problem+json. */
export function ProblemResponses(...statuses: number[]) {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: STATUS_CODES[status],
        content: {
          'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDocument' } },
        },
      }),
    ),
  );
}
