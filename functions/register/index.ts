/**
 * FC entry of the register function: wire the ports, call the pipeline.
 * `initialize` runs once per instance (Initializer: index.initialize); `handler` once per OSS event payload.
 * Both are `async`, the form FC's Node.js runtime documents for nodejs18/20 (a promise it awaits): a plain synchronous
 * initializer that neither returns a promise nor calls back is waited on until InitializationTimeout
 * (https://www.alibabacloud.com/help/en/functioncompute/user-guide/lifecycle-hooks-for-function-instances ,
 * https://alibabacloud.com/help/doc-detail/156876.htm).
 */
import { loadConfig } from '../../shared/config.ts';
import type { Credentials } from '../../shared/credentials.ts';
import type { FcContext } from '../../shared/fc-context.ts';
import { invocationOf, registerPayload } from '../../shared/register.ts';
import { createDeps, createLog } from './deps.ts';

let deps: ReturnType<typeof createDeps> | undefined;
// STS credentials rotate; the latest context's are the ones to sign with.
let credentials: Credentials;

export const initialize = async (context: FcContext): Promise<void> => {
  credentials = context.credentials;
  deps = createDeps(loadConfig(process.env), () => credentials);
};

export const handler = async (event: Buffer, context: FcContext): Promise<string> => {
  const hardDeadline = Date.now() + context.function.timeout * 1000;
  if (!deps) await initialize(context);
  const wired = deps as NonNullable<typeof deps>;
  credentials = context.credentials;
  const log = createLog(wired.config, () => credentials, { requestId: context.requestId });
  const results = await registerPayload(
    { ...wired, log, notifier: wired.notifierFor(log) },
    event,
    invocationOf(context.requestId, hardDeadline, wired.config, Date.now),
  );
  return JSON.stringify({ results });
};
