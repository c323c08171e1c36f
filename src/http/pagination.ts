// Django REST Framework style pages for the persons and groups resources: ?page&page_size,
// {"count", "next", "previous", "results"}; a page past the end is 404, as in DRF.
import type { FastifyRequest } from 'fastify';
import { Type, type TSchema } from '@sinclair/typebox';
import { NotFoundError } from '../errors.js';

export const PageQuery = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
  page_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
});

export const pageOf = <T extends TSchema>(item: T) =>
  Type.Object({
    count: Type.Integer(),
    next: Type.Union([Type.String(), Type.Null()]),
    previous: Type.Union([Type.String(), Type.Null()]),
    results: Type.Array(item),
  });

function link(request: FastifyRequest, page: number | null): string | null {
  if (page === null) return null;
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  url.searchParams.set('page', String(page));
  return url.toString();
}

export function pageBody<T>(
  request: FastifyRequest,
  page: { page: number; pageSize: number },
  count: number,
  results: T[],
): { count: number; next: string | null; previous: string | null; results: T[] } {
  if (page.page > 1 && results.length === 0) throw new NotFoundError('Invalid page.', { page: page.page, count });
  return {
    count,
    next: link(request, page.page * page.pageSize < count ? page.page + 1 : null),
    previous: link(request, page.page > 1 ? page.page - 1 : null),
    results,
  };
}
