/**
 * What every server of the local cloud (OSS, CityVisual, FC, the webhook receiver, the chat robots) does the same
 * way: bind a loopback address only, listen on a port (0: any free one), read a request body up to a limit, and
 * close without waiting for the clients' kept-alive connections.
 */
import { setMaxListeners } from 'node:events';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

/**
 * `host` itself when it is a loopback address: the local cloud holds test secrets and never listens beyond this
 * machine.
 */
export const loopbackHost = (host: string): string => {
  if (!LOOPBACK.test(host)) {
    throw new Error(`Expected \`host\` to be a loopback address (127.0.0.1, ::1 or localhost), got "${host}"`);
  }
  return host;
};

/** `http://127.0.0.1:8080`, or `http://[::1]:8080` for an IPv6 address. */
export const httpOrigin = (host: string, port: number): string =>
  `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

/** Listens on `host:port` (0: any free port) and resolves with the bound port; a failed listen (in use) rejects. */
export const listen = (server: Server, port: number, host: string): Promise<number> =>
  new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });

/** Closes the server now: kept-alive connections (ali-oss, fc2 and fetch keep them) are cut instead of awaited. */
export const closeServer = (server: Server): Promise<void> =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

export class BodyTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`Expected a request body of at most ${maxBytes} bytes`);
  }
}

export type BodyLimit = {
  maxBytes: number;
  /** The error to reject with past `maxBytes`; default `BodyTooLargeError`. */
  tooLarge?: () => Error;
};

/**
 * The request's body. Past `limit.maxBytes` it stops reading and rejects; it pauses the request instead of
 * destroying it, so the caller can still answer 413.
 */
export const readBody = (req: IncomingMessage, limit?: BodyLimit): Promise<Buffer> =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (limit === undefined || size <= limit.maxBytes) return void chunks.push(chunk);
      req.off('data', onData).pause();
      reject(limit.tooLarge?.() ?? new BodyTooLargeError(limit.maxBytes));
    };
    req
      .on('data', onData)
      .once('end', () => resolve(Buffer.concat(chunks)))
      .once('error', reject);
  });

/**
 * The controller a server aborts when it closes. Every request held by a `slow` fault waits on its signal until it
 * answers, so many listen at once: not a leak, and Node is told so (it warns past ten).
 */
export const shutdownController = (): AbortController => {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
};
