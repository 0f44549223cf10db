import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  startWebhookReceiver,
  type WebhookReceiver,
  type WebhookReceiverOptions,
} from '../../local/webhook-receiver.ts';
import { createLogger } from '../../shared/log.ts';
import { deadlineAt } from '../../shared/retry.ts';
import { createWebhookNotifier, signWebhook, type WebhookNotifierOptions, webhookIdOf } from '../../shared/webhooks.ts';
import { sampleStatus } from '../fixtures/status-document.ts';

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

const statusOf = sampleStatus;

/** Longer than any hook timeout: if close() waited for a hanging answer, afterEach would fail. */
const HANG = { delayMs: 60_000 };

let receiver: WebhookReceiver | undefined;
const received: Array<Record<string, unknown>> = [];
const logLines: string[] = [];

const start = async (options: WebhookReceiverOptions = {}) => {
  receiver = await startWebhookReceiver({ log: (entry) => received.push(entry), ...options });
  return receiver;
};

const notifierFor = (target: WebhookReceiver, overrides: Partial<WebhookNotifierOptions> = {}) =>
  createWebhookNotifier({
    endpoints: [{ url: target.url, secrets: [target.secret] }],
    states: ['REGISTERED', 'REJECTED', 'CONFLICT', 'FAILED'],
    timeoutMs: 2_000,
    log: createLogger(
      {},
      () => [],
      (line) => logLines.push(line),
    ),
    ...overrides,
  });

afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
  received.length = 0;
  logLines.length = 0;
});

describe('startWebhookReceiver', () => {
  it('listens on loopback only', async () => {
    // Act & Assert
    await expect(startWebhookReceiver({ host: '0.0.0.0' })).rejects.toThrow('Expected `host` to be a loopback address');
  });

  it('answers 401 to a signature made with another secret, and records it as unverified', async () => {
    // Arrange
    const target = await start();
    const body = '{"type":"algolib.registered","data":{}}';
    const timestamp = Math.floor(Date.now() / 1000);

    // Act
    const response = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': 'msg_forged',
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook([newSecret()], 'msg_forged', timestamp, body),
      },
      body,
    });

    // Assert
    expect(response.status).toBe(401);
    expect(target.deliveries()).toMatchObject([{ id: 'msg_forged', verified: false, status: 401 }]);
  });

  it('answers 401 to a body changed after signing', async () => {
    // Arrange
    const target = await start();
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = signWebhook([target.secret], 'msg_1', timestamp, '{"type":"algolib.registered"}');

    // Act
    const response = await fetch(target.url, {
      method: 'POST',
      headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': String(timestamp), 'webhook-signature': signature },
      body: '{"type": "algolib.registered"}',
    });

    // Assert
    expect(response.status).toBe(401);
  });
});

describe('webhook notifications over HTTP', () => {
  it('delivers a status that the receiver verifies with the standardwebhooks library', async () => {
    // Arrange
    const target = await start();
    const status = statusOf({ notifications: [] });

    // Act
    const records = await notifierFor(target).notify(status, undefined, deadlineAt(Date.now() + 10_000));

    // Assert
    expect(target.deliveries()).toMatchObject([
      {
        id: webhookIdOf(status),
        type: 'algolib.registered',
        verified: true,
        duplicate: false,
        status: 204,
        body: { type: 'algolib.registered', data: statusOf() },
      },
    ]);
    expect(received).toEqual([
      {
        service: 'webhook',
        id: webhookIdOf(status),
        type: 'algolib.registered',
        verified: true,
        duplicate: false,
        status: 204,
      },
    ]);
    expect(records).toMatchObject([
      { endpoint: new URL(target.url).host, delivered: true, attempts: 1, lastStatus: 204 },
    ]);
  });

  it('is verified by a receiver holding either secret of a rotation', async () => {
    // Arrange
    const oldSecret = newSecret();
    const currentSecret = newSecret();
    const oldReceiver = await startWebhookReceiver({ secret: oldSecret });
    const target = await start({ secret: currentSecret });
    const notifier = notifierFor(target, {
      endpoints: [
        { url: oldReceiver.url, secrets: [oldSecret, currentSecret] },
        { url: target.url, secrets: [oldSecret, currentSecret] },
      ],
    });

    // Act
    const records = await notifier.notify(statusOf(), undefined, deadlineAt(Date.now() + 10_000));
    await oldReceiver.close();

    // Assert
    expect(oldReceiver.deliveries()).toMatchObject([{ verified: true }]);
    expect(target.deliveries()).toMatchObject([{ verified: true }]);
    expect(records).toMatchObject([{ delivered: true }, { delivered: true }]);
  });

  it('retries a 500 with the same webhook-id until the receiver accepts it once', async () => {
    // Arrange
    const target = await start();
    target.respondWith([{ status: 500 }, { status: 200 }]);

    // Act
    const records = await notifierFor(target, { random: () => 0 }).notify(
      statusOf(),
      undefined,
      deadlineAt(Date.now() + 10_000),
    );

    // Assert
    const deliveries = target.deliveries();
    expect(deliveries.map(({ id, status, duplicate }) => ({ id, status, duplicate }))).toEqual([
      { id: webhookIdOf(statusOf()), status: 500, duplicate: false },
      { id: webhookIdOf(statusOf()), status: 200, duplicate: false },
    ]);
    expect(records).toMatchObject([{ delivered: true, attempts: 2, lastStatus: 200 }]);
  });

  it('sends nothing again for a recorded delivery; without the record the receiver sees a duplicate', async () => {
    // Arrange
    const target = await start();
    const notifier = notifierFor(target);
    const first = await notifier.notify(statusOf(), undefined, deadlineAt(Date.now() + 10_000));

    // Act
    const again = await notifier.notify(statusOf(), first, deadlineAt(Date.now() + 10_000));
    await notifier.notify(
      statusOf({ updatedAt: '2026-11-29T12:05:00.000Z' }),
      undefined,
      deadlineAt(Date.now() + 10_000),
    );

    // Assert
    expect(again).toEqual(first);
    expect(target.deliveries().map(({ duplicate }) => duplicate)).toEqual([false, true]);
  });

  it('stops after one attempt at a 410 Gone', async () => {
    // Arrange
    const target = await start();
    target.respondWith([{ status: 410 }]);

    // Act
    const records = await notifierFor(target).notify(statusOf(), undefined, deadlineAt(Date.now() + 10_000));

    // Assert
    expect(target.deliveries()).toHaveLength(1);
    expect(records).toMatchObject([{ delivered: false, attempts: 1, lastStatus: 410 }]);
  });

  it('stops at a 401 from a receiver that does not know the secret', async () => {
    // Arrange
    const target = await start();
    const notifier = notifierFor(target, { endpoints: [{ url: target.url, secrets: [newSecret()] }] });

    // Act
    const records = await notifier.notify(statusOf(), undefined, deadlineAt(Date.now() + 10_000));

    // Assert
    expect(target.deliveries()).toMatchObject([{ verified: false }]);
    expect(records).toMatchObject([{ delivered: false, attempts: 1, lastStatus: 401 }]);
  });

  it('gives up on an endpoint that always hangs within the deadline, each attempt cut at timeoutMs', async () => {
    // Arrange
    const target = await start();
    target.respondWith(Array.from({ length: 10 }, () => HANG));
    const notifier = notifierFor(target, { timeoutMs: 200, random: () => 0 });

    // Act
    const records = await notifier.notify(statusOf(), undefined, deadlineAt(Date.now() + 1_000));

    // Assert
    const attempts = records?.[0]?.attempts ?? 0;
    expect(records).toMatchObject([{ delivered: false, lastError: expect.stringMatching(/^timeout after \d+ ms$/) }]);
    expect(attempts).toBeGreaterThanOrEqual(1);
    expect(attempts).toBeLessThanOrEqual(5);
    expect(target.deliveries()).toHaveLength(attempts);
  });

  it('retries after a hanging attempt times out; the receiver, which had processed it, flags the retry', async () => {
    // Arrange
    const target = await start();
    target.respondWith([HANG]);
    const notifier = notifierFor(target, { timeoutMs: 300, random: () => 0 });

    // Act
    const records = await notifier.notify(statusOf(), undefined, deadlineAt(Date.now() + 10_000));

    // Assert
    expect(records).toMatchObject([{ delivered: true, attempts: 2, lastStatus: 204 }]);
    expect(target.deliveries().map(({ duplicate }) => duplicate)).toEqual([false, true]);
  });

  it('waits as long as Retry-After asks before retrying', async () => {
    // Arrange
    const target = await start();
    target.respondWith([{ status: 429, retryAfter: '1' }]);
    const slept: number[] = [];
    const notifier = notifierFor(target, {
      sleep: async (ms) => {
        slept.push(ms);
      },
    });

    // Act
    const records = await notifier.notify(statusOf(), undefined, deadlineAt(Date.now() + 10_000));

    // Assert
    expect(slept).toEqual([1_000]);
    expect(records).toMatchObject([{ delivered: true, attempts: 2 }]);
  });

  it('never shows the secret to the receiver outside the signature, nor in log lines', async () => {
    // Arrange
    const target = await start();
    target.respondWith([{ status: 503 }]);

    // Act
    await notifierFor(target, { random: () => 0 }).notify(statusOf(), undefined, deadlineAt(Date.now() + 10_000));

    // Assert
    const seen = JSON.stringify([target.deliveries(), received, logLines]);
    expect(seen).not.toContain(target.secret);
    expect(seen).not.toContain(target.secret.replace('whsec_', ''));
    expect(logLines).toHaveLength(1);
  });
});
