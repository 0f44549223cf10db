/**
 * FC entry of the register function: parse the event, wire the ports, call the pipeline.
 * `initialize` runs once per instance (Initializer: index.initialize); `handler` once per OSS event payload.
 */
import { loadConfig } from '../../shared/config.ts';
import { EventParseError } from '../../shared/errors.ts';
import type { FcContext } from '../../shared/fc-context.ts';
import type { Credentials } from '../../shared/object-store.ts';
import { parseObjectEvents } from '../../shared/oss-event.ts';
import { registerObject } from '../../shared/register.ts';
import { deadlineAt } from '../../shared/retry.ts';
import { createDeps, createLog } from './deps.ts';

let deps: ReturnType<typeof createDeps> | undefined;
// STS credentials rotate; the latest context's are the ones to sign with.
let credentials: Credentials;

export const initialize = (context: FcContext): void => {
  credentials = context.credentials;
  deps = createDeps(loadConfig(process.env), () => credentials);
};

export const handler = async (event: Buffer, context: FcContext): Promise<string> => {
  const hardDeadline = Date.now() + context.function.timeout * 1000;
  if (!deps) initialize(context);
  const wired = deps as NonNullable<typeof deps>;
  credentials = context.credentials;
  const log = createLog(wired.config, () => credentials, { requestId: context.requestId });
  const invocation = {
    requestId: context.requestId,
    hardDeadline,
    deadline: deadlineAt(hardDeadline - wired.config.deadlineReserveMs),
  };
  let objectEvents: ReturnType<typeof parseObjectEvents>;
  try {
    objectEvents = parseObjectEvents(event);
  } catch (error) {
    // A payload that does not parse never will: failing would only make FC retry it.
    if (!(error instanceof EventParseError)) throw error;
    log.error('event.invalid', { outcome: 'ignored', error: error.message });
    return JSON.stringify({ results: [] });
  }
  const results = [];
  let failure: unknown;
  for (const objectEvent of objectEvents) {
    try {
      const result = await registerObject({ ...wired, log, notifier: wired.notifierFor(log) }, objectEvent, invocation);
      results.push({
        key: objectEvent.key,
        outcome: result.outcome,
        state: 'status' in result ? result.status.state : undefined,
      });
    } catch (error) {
      log.error('event.failed', { key: objectEvent.key, outcome: 'retry', error });
      failure ??= error;
    }
  }
  // Every event was tried; one that could not finish fails the invocation so FC delivers the payload again.
  if (failure) throw failure;
  return JSON.stringify({ results });
};
