// JSON request bodies with a nesting limit. A 5000-deep `metadata` parses fine but overflows
// the stack in schema validation (a 500); the depth is counted on the raw text first, in one
// pass, and a deeper body is a ValidationError before anything else sees it. The parse itself
// stays Fastify's (empty bodies, __proto__ and constructor poisoning refused as before).
import type { FastifyInstance } from 'fastify';
import { ValidationError } from '../errors.js';

/** Far deeper than any body the API takes (metadata is free-form; 64 levels is plenty). */
export const MAX_JSON_DEPTH = 64;

/** Nesting depth of arrays and objects in JSON text, counted until it passes `max`. */
export function jsonDepthOver(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

export function installJsonParser(app: FastifyInstance, maxDepth = MAX_JSON_DEPTH): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (jsonDepthOver(body as string, maxDepth)) {
      done(new ValidationError(`JSON body nested deeper than ${maxDepth} levels`, { max_depth: maxDepth }), undefined);
      return;
    }
    parse(request, body as string, done);
  });
}
