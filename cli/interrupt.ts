/**
 * Ctrl-C as a command means it: while a step runs that must not be cut off half-done (an upload to abort, a wait
 * to end with a word), SIGINT aborts a signal the step watches instead of killing the process. A second Ctrl-C
 * exits at once (130), for when the cleanup itself hangs.
 */

export type Interrupt = {
  signal: AbortSignal;
  /** Gives SIGINT back to Node's default (exit). */
  release(): void;
};

/**
 * Catches SIGINT until `release()`.
 *
 * @example
 * ```ts
 * const interrupt = catchInterrupt();
 * try { await upload({ signal: interrupt.signal }); } finally { interrupt.release(); }
 * ```
 */
export const catchInterrupt = (): Interrupt => {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  return { signal: controller.signal, release: () => process.off('SIGINT', onSignal) };
};

/** The exit code of a command stopped by Ctrl-C (128 + SIGINT). */
export const INTERRUPTED = 130;
