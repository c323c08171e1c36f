// Request validation with TypeBox instead of Fastify's default Ajv setup, because Ajv there
// coerces types everywhere: `"force_regenerate": "true"` would pass as true. Bodies are
// checked as sent (defaults filled in, nothing coerced); path and query strings are
// converted to the declared scalar types first, as they can only arrive as text.
import { Kind, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';

const MAX_ERRORS = 10;

/**
 * Text from a path or query string to the declared scalar type, strictly: "12" is an integer,
 * "1.5", "1e3" and "12abc" stay text and fail the check (TypeBox's Value.Convert would truncate).
 */
function convertText(schema: TSchema, value: unknown): unknown {
  if (!value || typeof value !== 'object' || schema.type !== 'object') return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [key, prop] of Object.entries((schema.properties ?? {}) as Record<string, TSchema>)) {
    const text = out[key];
    if (typeof text !== 'string') continue;
    if (prop.type === 'integer' && /^-?\d{1,15}$/.test(text)) out[key] = Number(text);
    else if (prop.type === 'number' && /^-?\d+(\.\d+)?$/.test(text)) out[key] = Number(text);
    else if (prop.type === 'boolean' && (text === 'true' || text === 'false')) out[key] = text === 'true';
  }
  return out;
}

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart, contentType }) => {
  // A multipart form is read part by part by its handler; its schema is documentation.
  if (contentType && contentType !== 'application/json') return () => true;
  if (!(Kind in schema)) throw new TypeError(`Route schema for ${httpPart ?? 'request'} is not a TypeBox schema`);
  const check = TypeCompiler.Compile(schema);
  const isBody = httpPart === 'body';

  return (input: unknown) => {
    // No body at all (a bare POST) counts as an empty object, as in Django REST Framework.
    let value: unknown = input ?? (isBody ? {} : input);
    value = Value.Default(schema, Value.Clone(value));
    if (!isBody) value = convertText(schema, value);
    if (check.Check(value)) return { value };

    const errors: FastifySchemaValidationError[] = [];
    const seen = new Set<string>();
    for (const e of check.Errors(value)) {
      if (seen.has(e.path)) continue; // one message per field: the first is the most direct
      seen.add(e.path);
      errors.push({ keyword: String(e.type), instancePath: e.path, schemaPath: '', params: {}, message: e.message });
      if (errors.length === MAX_ERRORS) break;
    }
    return { error: errors };
  };
};
