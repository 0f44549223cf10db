import { describe, expect, it } from 'vitest';
import { FIRST_POLL_MS, nextPollMs, waitForStatus } from '../../cli/wait.ts';
import type { StatusDocument } from '../../shared/status.ts';

const status = (state: StatusDocument['state'], etag = 'OURS'): StatusDocument => ({
  schemaVersion: 1,
  state,
  package: { bucket: 'b', key: 'library/a/a-1.0.0.tar.gz' },
  manifest: { key: 'library/a/a-1.0.0.manifest.json', etag },
  errors: [],
  updatedAt: '2026-11-29T12:00:00.000Z',
});

/** A clock that only moves when the loop sleeps, and the reads it answers in order (the last one repeats). */
const script = (reads: Array<StatusDocument | undefined>) => {
  let now = 0;
  const sleeps: number[] = [];
  let index = 0;
  return {
    sleeps,
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    read: async () => reads[Math.min(index++, reads.length - 1)],
  };
};

describe('waitForStatus', () => {
  it('polls early, then backs off to 2 s between polls', () => {
    const delays = [FIRST_POLL_MS as number];
    for (let i = 0; i < 7; i += 1) delays.push(nextPollMs(delays.at(-1) as number));

    expect(delays).toEqual([100, 150, 250, 500, 1000, 2000, 2000, 2000]);
  });

  it('never reads more than 4 times in any second', async () => {
    const clock = script([undefined]);
    const readsAt: number[] = [];

    await waitForStatus({
      ...clock,
      read: async () => {
        readsAt.push(clock.now());
        return undefined;
      },
      isOurs: () => true,
      timeoutMs: 30_000,
    });

    for (const at of readsAt) expect(readsAt.filter((t) => t >= at && t < at + 1000).length).toBeLessThanOrEqual(4);
    expect(readsAt.slice(0, 5)).toEqual([100, 250, 500, 1000, 2000]);
  });

  it('returns the first terminal status that is ours', async () => {
    const clock = script([undefined, status('PENDING'), status('REGISTERED', 'EARLIER'), status('REJECTED')]);

    const result = await waitForStatus({ ...clock, isOurs: (s) => s.manifest.etag === 'OURS', timeoutMs: 60_000 });

    expect(result).toEqual({ outcome: 'done', status: status('REJECTED') });
    expect(clock.sleeps).toEqual([100, 150, 250, 500]);
  });

  it('times out with the last status it saw, never sleeping past the timeout', async () => {
    const clock = script([undefined, status('PENDING')]);

    const result = await waitForStatus({ ...clock, isOurs: () => true, timeoutMs: 3_000 });

    expect(result).toEqual({ outcome: 'timed-out', last: status('PENDING') });
    expect(clock.sleeps).toEqual([100, 150, 250, 500, 1000, 1000]);
  });

  it('tells every poll what it saw and when', async () => {
    const clock = script([undefined, status('REGISTERED')]);
    const polls: Array<[string, number]> = [];

    await waitForStatus({
      ...clock,
      isOurs: () => true,
      timeoutMs: 10_000,
      onPoll: (s, ms) => polls.push([s?.state ?? 'none', ms]),
    });

    expect(polls).toEqual([
      ['none', 100],
      ['REGISTERED', 250],
    ]);
  });

  it('stops at once when its signal aborts (Ctrl-C) during a sleep, with the latest status seen', async () => {
    const controller = new AbortController();
    const clock = script([status('PENDING')]);
    let reads = 0;

    const result = await waitForStatus({
      read: async () => {
        reads += 1;
        return clock.read();
      },
      isOurs: () => true,
      timeoutMs: 60_000,
      now: clock.now,
      // The first sleep (before the first read) passes; the next never ends on its own: only the abort (Ctrl-C
      // while it sleeps) can end the wait.
      sleep: () => {
        if (reads === 0) return Promise.resolve();
        controller.abort();
        return new Promise(() => {});
      },
      signal: controller.signal,
    });

    expect(result).toEqual({ outcome: 'stopped', last: status('PENDING') });
    expect(reads).toBe(1);
  });
});
