import type { Credentials } from './credentials.ts';

/** The FC 2.0 context fields the function reads (the runtime passes more). */
export type FcContext = {
  requestId: string;
  credentials: Credentials;
  function: { name: string; timeout: number; memory?: number };
  region?: string;
};
