// Schemas shared by every route: the error envelope (docs/api.md "Errors").
import { Type } from '@sinclair/typebox';

export const ErrorEnvelope = Type.Object(
  {
    error: Type.Object({
      type: Type.String({ description: 'One of the closed set of error types' }),
      message: Type.String(),
      details: Type.Optional(Type.Object({}, { additionalProperties: true })),
      traceback: Type.Optional(Type.String({ description: 'Only when FACEEMBED_LOG_LEVEL=debug' })),
    }),
    request_id: Type.String(),
  },
  { description: 'Error' },
);

/** Response schemas for every failure status. */
export const errorResponses = { '4xx': ErrorEnvelope, '5xx': ErrorEnvelope } as const;

/** Database ids are 32-bit in PostgreSQL: a larger id is a bad request, not a server error. */
export const MAX_ID = 2_147_483_647;
export const Id = Type.Integer({ minimum: 1, maximum: MAX_ID });

export const apiSecurity = [{ bearer: [] as string[] }];
