import { describe, expect, it } from 'vitest';
import { RemoteError } from '../../shared/errors.ts';
import { deadlineAt, fullJitterDelay, withRetry } from '../../shared/retry.ts';
import { createVirtualClock } from '../fakes/register-deps.ts';

const transient = () =>
  new RemoteError({ service: 'cityvisual', code: 'Throttling.User', retryable: true }, 'throttled');
const permanent = () =>
  new RemoteError({ service: 'cityvisual', code: 'InvalidName.Malformed', retryable: false }, 'bad name');
const policy = { baseMs: 200, maxDelayMs: 5000, maxAttempts: 8 };

describe('fullJitterDelay', () => {
  it.each([
    [1, 200],
    [2, 400],
    [5, 3200],
    [6, 5000],
    [20, 5000],
  ])('draws below min(cap, base·2^(n-1)) for retry %i', (retry, bound) => {
    // Act / Assert
    expect(fullJitterDelay(policy, retry, () => 0.999999)).toBe(bound - 1);
    expect(fullJitterDelay(policy, retry, () => 0)).toBe(0);
  });
});

describe('withRetry', () => {
  it('retries transient errors until success', async () => {
    // Arrange
    const clock = createVirtualClock();
    let calls = 0;

    // Act
    const result = await withRetry(
      async () => {
        calls += 1;
        if (calls < 3) throw transient();
        return 'ok';
      },
      { policy, deadline: deadlineAt(clock.now() + 60_000, clock.now), sleep: clock.sleep },
    );

    // Assert
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('stops at once on a permanent error', async () => {
    // Arrange
    const clock = createVirtualClock();
    let calls = 0;

    // Act
    const run = withRetry(
      async () => {
        calls += 1;
        throw permanent();
      },
      { policy, deadline: deadlineAt(clock.now() + 60_000, clock.now), sleep: clock.sleep },
    );

    // Assert
    await expect(run).rejects.toThrow('bad name');
    expect(calls).toBe(1);
  });

  it('stops after maxAttempts', async () => {
    // Arrange
    const clock = createVirtualClock();
    let calls = 0;

    // Act
    const run = withRetry(
      async () => {
        calls += 1;
        throw transient();
      },
      {
        policy: { ...policy, maxAttempts: 3 },
        deadline: deadlineAt(clock.now() + 600_000, clock.now),
        sleep: clock.sleep,
      },
    );

    // Assert
    await expect(run).rejects.toThrow('throttled');
    expect(calls).toBe(3);
  });

  it('never sleeps past the deadline', async () => {
    // Arrange
    const clock = createVirtualClock();
    const deadline = deadlineAt(clock.now() + 2_000, clock.now);
    const delays: number[] = [];

    // Act
    const run = withRetry(
      async () => {
        throw transient();
      },
      {
        policy: { ...policy, maxAttempts: 100 },
        deadline,
        sleep: clock.sleep,
        random: () => 0.99,
        onRetry: (_e, _n, ms) => delays.push(ms),
      },
    );

    // Assert
    await expect(run).rejects.toThrow('throttled');
    expect(clock.now()).toBeLessThanOrEqual(deadline.at);
    expect(delays.length).toBeGreaterThan(0);
  });

  it('does not retry an error that is not a RemoteError (a bug is not transient)', async () => {
    // Arrange
    const clock = createVirtualClock();
    let calls = 0;

    // Act
    const run = withRetry(
      async () => {
        calls += 1;
        throw new Error('bug');
      },
      { policy, deadline: deadlineAt(clock.now() + 60_000, clock.now), sleep: clock.sleep },
    );

    // Assert
    await expect(run).rejects.toThrow('bug');
    expect(calls).toBe(1);
  });
});
