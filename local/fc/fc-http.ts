/**
 * The FC API's HTTP front: reads the request, authenticates it, finds the route, and answers in FC's format
 * (`x-fc-request-id` on every response, errors as `{"ErrorCode","ErrorMessage"}` JSON). Routes are a plain table of
 * `{ method, pattern, handle }`, so services, functions, triggers and async-config routes can be added later.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { PipelineError } from '../../shared/errors.ts';
import { closeServer, httpOrigin, listen, loopbackHost, readBody } from '../http-server.ts';
import type { FcAuthFailure } from './fc-signature.ts';

export type FcRequest = {
  method: string;
  /** Path as received (percent-encoded), without the query string. */
  rawPath: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  requestId: string;
  /** Values of the route pattern's `:name` segments, decoded. */
  params: Record<string, string>;
};

export type FcResponse = { status: number; headers?: Record<string, string>; body?: Buffer | string };

export type FcRoute = {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** `/2016-08-15/services/:service/functions/:function/invocations` */
  pattern: string;
  handle(request: FcRequest): Promise<FcResponse> | FcResponse;
};

/** An FC API error answer; route handlers throw it. */
export class FcApiError extends PipelineError {
  public readonly status: number;
  public readonly code: string;
  public constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'FcApiError';
    this.status = status;
    this.code = code;
  }
}

export type FcHttpServer = { endpoint: string; port: number; close(): Promise<void> };

export type FcHttpOptions = {
  host: string;
  port: number;
  routes: FcRoute[];
  /** Undefined when the request may proceed. */
  authenticate(request: FcRequest): FcAuthFailure | undefined;
};

/** Bigger than any FC payload (6 MB sync, 128 KB async); only here so a runaway client cannot exhaust memory. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export const startFcHttpServer = async (options: FcHttpOptions): Promise<FcHttpServer> => {
  const server = createServer((req, res) => {
    void serve(options, req, res);
  });
  const port = await listen(server, options.port, loopbackHost(options.host));
  return {
    endpoint: httpOrigin(options.host, port),
    port,
    // fc2's httpx keeps connections alive: closeServer cuts them instead of waiting for their idle timeout.
    close: () => closeServer(server),
  };
};

const serve = async (options: FcHttpOptions, req: IncomingMessage, res: ServerResponse) => {
  const requestId = randomUUID();
  try {
    const url = new URL(req.url ?? '/', 'http://fc.local');
    const body = await readBody(req, {
      maxBytes: MAX_BODY_BYTES,
      tooLarge: () => new FcApiError(413, 'EntityTooLarge', `The request body exceeds ${MAX_BODY_BYTES} bytes`),
    });
    const request: FcRequest = {
      method: req.method ?? 'GET',
      rawPath: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
      requestId,
      params: {},
    };
    const denied = options.authenticate(request);
    if (denied) return write(res, requestId, errorResponse(denied.status, denied.code, denied.message));
    const route = findRoute(options.routes, request.method, request.rawPath);
    if (!route) {
      throw new FcApiError(
        404,
        'PathNotSupported',
        `The FC emulator does not serve ${request.method} ${request.rawPath}`,
      );
    }
    write(res, requestId, await route.route.handle({ ...request, params: route.params }));
  } catch (error) {
    write(res, requestId, toErrorResponse(error));
  }
};

const findRoute = (routes: FcRoute[], method: string, rawPath: string) => {
  const segments = rawPath.split('/');
  for (const route of routes) {
    if (route.method !== method) continue;
    const params = matchPattern(route.pattern.split('/'), segments);
    if (params) return { route, params };
  }
  return undefined;
};

const matchPattern = (pattern: string[], segments: string[]): Record<string, string> | undefined => {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, part] of pattern.entries()) {
    const segment = segments[index] ?? '';
    if (part.startsWith(':')) {
      if (segment === '') return undefined;
      params[part.slice(1)] = decodeURIComponent(segment);
    } else if (part !== segment) {
      return undefined;
    }
  }
  return params;
};

export const errorResponse = (status: number, code: string, message: string): FcResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ ErrorCode: code, ErrorMessage: message }),
});

const toErrorResponse = (error: unknown): FcResponse => {
  if (error instanceof FcApiError) return errorResponse(error.status, error.code, error.message);
  if (error instanceof URIError)
    return errorResponse(400, 'InvalidArgument', 'The request path is not valid percent-encoding');
  return errorResponse(500, 'InternalServerError', error instanceof Error ? error.message : String(error));
};

const write = (res: ServerResponse, requestId: string, response: FcResponse) => {
  if (res.headersSent) return;
  const body = response.body ?? '';
  res.writeHead(response.status, {
    ...response.headers,
    'x-fc-request-id': requestId,
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
};
