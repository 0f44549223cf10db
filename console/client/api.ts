/** The console's JSON API as the page uses it: conditional GETs (ETag) and the one token-carrying POST. */

const etags = new Map<string, string>();
const bodies = new Map<string, unknown>();

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const errorOf = async (response: Response): Promise<ApiError> => {
  const body = (await response.json().catch(() => ({}))) as { error?: string };
  return new ApiError(response.status, body.error ?? `${response.status} ${response.statusText}`);
};

/**
 * GETs `path`; `changed` is false when the server answered 304 (same ETag as last time), so the caller can skip
 * rendering what it already shows.
 */
export const getJson = async <T>(path: string): Promise<{ data: T; changed: boolean }> => {
  const etag = etags.get(path);
  const response = await fetch(path, { cache: 'no-store', headers: etag ? { 'if-none-match': etag } : {} });
  if (response.status === 304 && bodies.has(path)) return { data: bodies.get(path) as T, changed: false };
  if (!response.ok) throw await errorOf(response);
  const data = (await response.json()) as T;
  const next = response.headers.get('etag');
  if (next) etags.set(path, next);
  bodies.set(path, data);
  return { data, changed: true };
};

const token = (): string =>
  document.querySelector<HTMLMetaElement>('meta[name="algolib-console-token"]')?.content ?? '';

/** Asks the server to re-run a pair, as `algolib replay` does. */
export const replay = async (packageKey: string): Promise<{ requestId: string }> => {
  const response = await fetch('/api/replay', {
    method: 'POST',
    cache: 'no-store',
    headers: { 'content-type': 'application/json', 'x-algolib-console-token': token() },
    body: JSON.stringify({ packageKey }),
  });
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as { requestId: string };
};
