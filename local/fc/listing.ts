/**
 * One page of an FC 2.0 list call (ListServices, ListFunctions, ListTriggers), as the API reference describes its
 * query parameters (https://www.alibabacloud.com/help/en/function-compute/latest/listservices ,
 * https://www.alibabacloud.com/help/doc-detail/191155.htm ListFunctions; ListTriggers takes the same four):
 * - `limit`: at most this many; default 20, at most 100 (a larger one is capped at 100 here: what FC does with it is
 *   not documented, and a cap refuses nothing the cloud might accept; a limit that is not a positive integer → 400
 *   `InvalidArgument`, chosen).
 * - `prefix`: only names that start with it.
 * - `startKey`: names sorted alphabetically, starting at `startKey` (inclusive).
 * - `nextToken`: from the previous page; the answer carries `nextToken` only while more names follow.
 * The token's content is not documented (the reference's example is a resource name, `nextService`); here it is the
 * first name of the next page, so a page starts at the greater of `startKey` and `nextToken`.
 */
import { FcApiError } from './fc-http.ts';

export type ListPage<T> = { items: T[]; nextToken?: string };

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;

/**
 * The page of `items` (named by `nameOf`) that `query` asks for.
 *
 * @example
 * ```ts
 * const { items, nextToken } = listPage(services, (s) => s.name, request.query);
 * ```
 */
export const listPage = <T>(items: T[], nameOf: (item: T) => string, query: URLSearchParams): ListPage<T> => {
  const limit = limitOf(query.get('limit'));
  const prefix = query.get('prefix') ?? '';
  const from = [query.get('startKey') ?? '', query.get('nextToken') ?? ''].sort().at(-1) ?? '';
  const matching = items
    .filter((item) => nameOf(item).startsWith(prefix) && nameOf(item) >= from)
    .sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0));
  const page = matching.slice(0, limit);
  const next = matching[limit];
  return next === undefined ? { items: page } : { items: page, nextToken: nameOf(next) };
};

const limitOf = (value: string | null): number => {
  if (value === null || value === '') return DEFAULT_LIMIT;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new FcApiError(400, 'InvalidArgument', `Expected \`limit\` to be a positive integer, got ${value}`);
  }
  return Math.min(limit, MAX_LIMIT);
};
