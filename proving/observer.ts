/**
 * Watches the local cloud's log stream during a soak: every entry is scanned for canaries, the function's own lines
 * (forwarded by the FC emulator) tell when each pair's status was written in which state, and failures are counted
 * by class. It keeps aggregates only, so a 10,000-pair run does not hold every line in memory.
 */
import { pairOf } from '../shared/keys.ts';
import type { RegistrationState } from '../shared/status.ts';
import type { LeakScanner } from './canary.ts';

type FunctionLine = {
  time?: string;
  level?: string;
  key?: string;
  step?: string;
  outcome?: unknown;
  state?: unknown;
  code?: unknown;
  error?: { name?: string; message?: string } | string;
};

export type Observer = {
  /** The local cloud's `log` option. */
  onLog(entry: Record<string, unknown>): void;
  /** When the status of `packageKey` was first written in `state` (epoch ms, from the function's log line). */
  firstWritten(packageKey: string, state: RegistrationState): number | undefined;
  /** Resolves when `packageKey`'s status is first written in one of `states`, or `false` after `timeoutMs`. */
  whenWritten(packageKey: string, states: readonly RegistrationState[], timeoutMs: number): Promise<boolean>;
  /** Failures and retries by class: `function <step> <code>`, `fc <failure kind> <errorType>`, `cityvisual <action> <code>`. */
  errorClasses(): Record<string, number>;
  /** The first messages of each class of the function's failed invocations (`function event.failed …`). */
  errorSamples(): Record<string, string[]>;
  counts(): { functionLines: number; unparsedLines: number; unverifiedWebhooks: number };
  /** Cancels every pending `whenWritten` timer. */
  close(): void;
};

/**
 * The state a line shows the pair's status in: `status.written` names the state it wrote, `status.replayed` the
 * state it found (a re-run after a crash between the write and its log line only ever says the latter).
 */
const stateShown = (line: FunctionLine): string | undefined => {
  if (line.step === 'status.written' && typeof line.outcome === 'string') return line.outcome;
  if (line.step === 'status.replayed' && typeof line.state === 'string') return line.state;
  return undefined;
};

const SAMPLES_PER_CLASS = 3;

export const createObserver = (packagePrefix: string, scanner: LeakScanner): Observer => {
  const written = new Map<string, Map<RegistrationState, number>>();
  const waiters = new Map<string, Array<{ states: readonly RegistrationState[]; wake: (ok: boolean) => void }>>();
  const timers = new Set<NodeJS.Timeout>();
  const classes: Record<string, number> = {};
  const samples: Record<string, string[]> = {};
  let functionLines = 0;
  let unparsedLines = 0;
  let unverifiedWebhooks = 0;
  const count = (label: string) => {
    classes[label] = (classes[label] ?? 0) + 1;
  };

  const recordWrite = (key: string, state: RegistrationState, at: number) => {
    const pair = pairOf(key, packagePrefix);
    if (!pair) return;
    const states = written.get(pair.packageKey) ?? new Map<RegistrationState, number>();
    written.set(pair.packageKey, states);
    if (!states.has(state)) states.set(state, at);
    const pending = waiters.get(pair.packageKey);
    if (!pending) return;
    const still = pending.filter((waiter) => {
      if (!waiter.states.includes(state)) return true;
      waiter.wake(true);
      return false;
    });
    if (still.length > 0) waiters.set(pair.packageKey, still);
    else waiters.delete(pair.packageKey);
  };

  const onFunctionLine = (text: string) => {
    functionLines += 1;
    if (!text.startsWith('{')) return;
    let line: FunctionLine;
    try {
      line = JSON.parse(text) as FunctionLine;
    } catch {
      unparsedLines += 1;
      return;
    }
    const state = stateShown(line);
    if (state && line.key) recordWrite(line.key, state as RegistrationState, Date.parse(line.time ?? '') || Date.now());
    if (line.level === 'warn' || line.level === 'error') {
      const error = typeof line.error === 'object' ? line.error : undefined;
      const label = `function ${line.step} ${String(line.code ?? error?.name ?? '')}`.trimEnd();
      count(label);
      if (line.step === 'event.failed' && error?.message && (samples[label]?.length ?? 0) < SAMPLES_PER_CLASS)
        samples[label] = [...(samples[label] ?? []), error.message];
    }
  };

  return {
    onLog(entry) {
      scanner.scan('log', JSON.stringify(entry));
      if (entry.service === 'fc') {
        if (typeof entry.line === 'string') onFunctionLine(entry.line);
        else if (entry.outcome === 'failed') count(`fc ${String(entry.failure)} ${String(entry.errorType)}`);
        else if (entry.event === 'dead-letter') count('fc dead letter');
      } else if (entry.service === 'cityvisual' && entry.code !== 'OK') {
        count(`cityvisual ${String(entry.action)} ${String(entry.code)}`);
      } else if (entry.service === 'webhook' && entry.verified !== true) {
        unverifiedWebhooks += 1;
      }
    },
    firstWritten: (packageKey, state) => written.get(packageKey)?.get(state),
    whenWritten(packageKey, states, timeoutMs) {
      const seen = written.get(packageKey);
      if (seen && states.some((state) => seen.has(state))) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          const list = waiters.get(packageKey) ?? [];
          waiters.set(
            packageKey,
            list.filter((waiter) => waiter.wake !== wake),
          );
          resolve(false);
        }, timeoutMs);
        timers.add(timer);
        const wake = (ok: boolean) => {
          clearTimeout(timer);
          timers.delete(timer);
          resolve(ok);
        };
        const list = waiters.get(packageKey) ?? [];
        list.push({ states, wake });
        waiters.set(packageKey, list);
      });
    },
    errorClasses: () => ({ ...classes }),
    errorSamples: () => structuredClone(samples),
    counts: () => ({ functionLines, unparsedLines, unverifiedWebhooks }),
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const list of waiters.values()) for (const waiter of list) waiter.wake(false);
      waiters.clear();
    },
  };
};
