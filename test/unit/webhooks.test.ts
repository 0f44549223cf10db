import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import type { WebhookEndpoint } from '../../shared/config.ts';
import { createLogger } from '../../shared/log.ts';
import { deadlineAt } from '../../shared/retry.ts';
import type { NotificationRecord, RegistrationState, StatusDocument } from '../../shared/status.ts';
import {
  createWebhookNotifier,
  messageOf,
  parseRetryAfter,
  signWebhook,
  type WebhookNotifierOptions,
  webhookIdOf,
} from '../../shared/webhooks.ts';
import { sampleStatus } from '../fixtures/status-document.ts';

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
const SECRET = newSecret();
const URL_TOKEN = 'T0KEN-in-the-path';
const ENDPOINT: WebhookEndpoint = {
  url: `https://hooks.example.com/in/${URL_TOKEN}?token=${URL_TOKEN}`,
  secrets: [SECRET],
};

const statusOf = sampleStatus;

/** What the fake endpoint saw of one request. */
type Sent = { url: string; headers: Record<string, string>; body: string; redirect: RequestInit['redirect'] };
/** A status (with optional headers), a hang until the attempt's signal aborts, or a thrown network error. */
type Reply = number | { status: number; headers?: Record<string, string> } | 'hang' | Error;

const hang = (signal: AbortSignal | null | undefined) =>
  new Promise<never>((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason)));

/** An in-memory endpoint: `respond` picks the reply to the n-th request (0-based); 204 when it returns undefined. */
const fakeFetch = (respond: (request: Sent, index: number) => Reply | undefined | Promise<Reply | undefined>) => {
  const sent: Sent[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request: Sent = {
      url: String(input),
      headers: Object.fromEntries(new Headers(init?.headers)),
      body: String(init?.body),
      redirect: init?.redirect,
    };
    sent.push(request);
    const reply = (await respond(request, sent.length - 1)) ?? 204;
    if (reply === 'hang') return hang(init?.signal);
    if (reply instanceof Error) throw reply;
    const { status, headers = {} } = typeof reply === 'number' ? { status: reply } : reply;
    return new Response(null, { status, headers });
  };
  return { fetch, sent };
};
const scripted = (replies: Reply[]) => fakeFetch((_request, index) => replies[index]);

/** A clock that only moves when the notifier sleeps, so backoff and deadlines are exact. Starts at real time,
 * so the reference library's ±5 min timestamp check still passes. */
const fakeClock = () => {
  let time = Math.floor(Date.now() / 1000) * 1000;
  const slept: number[] = [];
  return {
    slept,
    now: () => time,
    sleep: async (ms: number) => {
      slept.push(ms);
      time += ms;
    },
  };
};

const setup = (fetch: typeof globalThis.fetch, overrides: Partial<WebhookNotifierOptions> = {}) => {
  const clock = fakeClock();
  const lines: string[] = [];
  // No secrets handed to the logger's scrubber: the notifier itself must never log one.
  const log = createLogger(
    { requestId: 'req-1' },
    () => [],
    (line) => lines.push(line),
  );
  const notifier = createWebhookNotifier({
    endpoints: [ENDPOINT],
    timeoutMs: 1_000,
    log,
    fetch,
    now: clock.now,
    sleep: clock.sleep,
    random: () => 0.5,
    ...overrides,
  });
  const deadline = (ms = 30_000) => deadlineAt(clock.now() + ms, clock.now);
  return { notifier, clock, lines, deadline };
};

const verify = (secret: string, request: Sent) => new Webhook(secret).verify(request.body, request.headers);

describe('signWebhook', () => {
  it('reproduces the test vector of the Standard Webhooks reference library', () => {
    // Act
    const signature = signWebhook(
      ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      1614265330,
      '{"test": 2432232314}',
    );

    // Assert
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('signs with every secret, and each one verifies on its own (rotation)', () => {
    // Arrange
    const [oldSecret, newSecretValue] = [newSecret(), newSecret()];
    const timestamp = Math.floor(Date.now() / 1000);
    const body = '{"type":"algolib.registered"}';

    // Act
    const signature = signWebhook([oldSecret, newSecretValue], 'msg_1', timestamp, body);

    // Assert
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
    expect(signature.split(' ')).toHaveLength(2);
    expect(new Webhook(oldSecret).verify(body, headers)).toEqual({ type: 'algolib.registered' });
    expect(new Webhook(newSecretValue).verify(body, headers)).toEqual({ type: 'algolib.registered' });
    expect(() => new Webhook(newSecret()).verify(body, headers)).toThrow('No matching signature found');
  });
});

describe('webhookIdOf', () => {
  it('is msg_ and 32 hex chars, the same for every call on the same package, etags and state', () => {
    // Arrange
    const later = statusOf({ updatedAt: '2026-11-30T00:00:00.000Z', notifications: [] });

    // Act
    const id = webhookIdOf(statusOf());

    // Assert
    expect(id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(webhookIdOf(statusOf())).toBe(id);
    expect(webhookIdOf(later)).toBe(id);
  });

  it.each<[string, Partial<StatusDocument>]>([
    ['state', { state: 'FAILED' }],
    ['package etag', { package: { ...statusOf().package, etag: '"OTHER"' } }],
    ['manifest etag', { manifest: { ...statusOf().manifest, etag: '"OTHER"' } }],
    ['package key', { package: { ...statusOf().package, key: 'library/face/face-1.2.1.tar.gz' } }],
    ['bucket', { package: { ...statusOf().package, bucket: 'other-bucket' } }],
  ])('changes with the %s', (_what, change) => {
    // Act & Assert
    expect(webhookIdOf(statusOf(change))).not.toBe(webhookIdOf(statusOf()));
  });
});

describe('messageOf', () => {
  it.each<[RegistrationState, string]>([
    ['REGISTERED', 'algolib.registered'],
    ['REJECTED', 'algolib.rejected'],
    ['CONFLICT', 'algolib.conflict'],
    ['FAILED', 'algolib.failed'],
    ['PENDING', 'algolib.pending'],
  ])('names a %s status %s', (state, type) => {
    // Act & Assert
    expect(messageOf(statusOf({ state }), new Date()).type).toBe(type);
  });

  it('carries the status as data without its notifications, and leaves the status untouched', () => {
    // Arrange
    const record: NotificationRecord = {
      endpoint: 'hooks.example.com',
      webhookId: 'msg_x',
      type: 'algolib.registered',
      delivered: true,
      attempts: 1,
      at: '2026-11-29T12:00:01.000Z',
    };
    const status = statusOf({ notifications: [record] });

    // Act
    const message = messageOf(status, new Date('2026-11-29T12:00:02.000Z'));

    // Assert
    expect(message.timestamp).toBe('2026-11-29T12:00:02.000Z');
    expect(message.data).not.toHaveProperty('notifications');
    expect(message.data).toEqual(statusOf());
    expect(status.notifications).toEqual([record]);
  });
});

describe('parseRetryAfter', () => {
  it.each<[string | null, number | undefined]>([
    ['3', 3_000],
    [' 0 ', 0],
    ['Sun, 29 Nov 2026 12:00:04 GMT', 4_000],
    ['Sun, 29 Nov 2026 11:00:00 GMT', 0],
    ['soon', undefined],
    ['-1', undefined],
    [null, undefined],
  ])('reads %j as %j ms', (value, expected) => {
    // Act & Assert
    expect(parseRetryAfter(value, Date.parse('2026-11-29T12:00:00.000Z'))).toBe(expected);
  });
});

describe('createWebhookNotifier', () => {
  it('POSTs the message with Standard Webhooks headers that the reference library verifies', async () => {
    // Arrange
    const endpoint = scripted([200]);
    const { notifier, deadline } = setup(endpoint.fetch);

    // Act
    const records = await notifier.notify(statusOf(), undefined, deadline());

    // Assert
    const [request] = endpoint.sent;
    expect(endpoint.sent).toHaveLength(1);
    expect(request?.url).toBe(ENDPOINT.url);
    expect(request?.redirect).toBe('manual');
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'algolib-pipeline',
      'webhook-id': webhookIdOf(statusOf()),
      'webhook-timestamp': expect.stringMatching(/^\d{10}$/),
      'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
    });
    expect(request && verify(SECRET, request)).toEqual({
      type: 'algolib.registered',
      timestamp: expect.any(String),
      data: statusOf(),
    });
    expect(records).toEqual([
      {
        endpoint: 'hooks.example.com',
        webhookId: webhookIdOf(statusOf()),
        type: 'algolib.registered',
        delivered: true,
        attempts: 1,
        lastStatus: 200,
        at: expect.any(String),
      },
    ]);
  });

  it('signs with every secret of the endpoint, so either side of a rotation verifies', async () => {
    // Arrange
    const [oldSecret, currentSecret] = [newSecret(), newSecret()];
    const endpoint = scripted([204]);
    const { notifier, deadline } = setup(endpoint.fetch, {
      endpoints: [{ url: 'https://hooks.example.com/in', secrets: [oldSecret, currentSecret] }],
    });

    // Act
    await notifier.notify(statusOf(), undefined, deadline());

    // Assert
    const request = endpoint.sent[0];
    if (!request) throw new Error('Expected one request');
    expect(request.headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(verify(oldSecret, request)).toMatchObject({ type: 'algolib.registered' });
    expect(verify(currentSecret, request)).toMatchObject({ type: 'algolib.registered' });
  });

  it('strips notifications from the data sent', async () => {
    // Arrange
    const endpoint = scripted([204]);
    const { notifier, deadline } = setup(endpoint.fetch);
    const previous: NotificationRecord[] = [
      {
        endpoint: 'other.example.com',
        webhookId: 'msg_old',
        type: 'algolib.failed',
        delivered: false,
        attempts: 3,
        at: '',
      },
    ];

    // Act
    await notifier.notify(statusOf({ notifications: previous }), previous, deadline());

    // Assert
    expect(JSON.parse(endpoint.sent[0]?.body ?? '{}').data).not.toHaveProperty('notifications');
  });

  it('retries a 500 with the same webhook-id and records one delivery after two attempts', async () => {
    // Arrange
    const endpoint = scripted([500, 200]);
    const { notifier, deadline, clock } = setup(endpoint.fetch);

    // Act
    const records = await notifier.notify(statusOf(), undefined, deadline());

    // Assert
    expect(endpoint.sent.map((request) => request.headers['webhook-id'])).toEqual([
      webhookIdOf(statusOf()),
      webhookIdOf(statusOf()),
    ]);
    expect(clock.slept).toEqual([250]); // full jitter: 0.5 × min(5 s, 500 ms × 2⁰)
    expect(records).toMatchObject([{ delivered: true, attempts: 2, lastStatus: 200 }]);
    expect(records?.[0]).not.toHaveProperty('lastError');
  });

  it('re-signs every attempt with the attempt’s own timestamp over the same body', async () => {
    // Arrange
    const endpoint = scripted([{ status: 503, headers: { 'retry-after': '2' } }, 204]);
    const { notifier, deadline } = setup(endpoint.fetch);

    // Act
    await notifier.notify(statusOf(), undefined, deadline());

    // Assert
    const [first, second] = endpoint.sent;
    if (!first || !second) throw new Error('Expected two requests');
    expect(Number(second.headers['webhook-timestamp']) - Number(first.headers['webhook-timestamp'])).toBe(2);
    expect(second.body).toBe(first.body);
    expect(second.headers['webhook-signature']).not.toBe(first.headers['webhook-signature']);
    expect(verify(SECRET, first)).toEqual(verify(SECRET, second));
  });

  it.each([408, 409, 425, 429, 500, 502, 503, 504])('retries a %i', async (status) => {
    // Arrange
    const endpoint = scripted([status, 204]);
    const { notifier, deadline } = setup(endpoint.fetch);

    // Act
    const records = await notifier.notify(statusOf(), undefined, deadline());

    // Assert
    expect(records).toMatchObject([{ delivered: true, attempts: 2 }]);
  });

  it.each([400, 401, 403, 404, 413, 422])('stops at a %i: retrying cannot fix it', async (status) => {
    // Arrange
    const endpoint = scripted([status, 204]);
    const { notifier, deadline } = setup(endpoint.fetch);

    // Act
    const records = await notifier.notify(statusOf(), undefined, deadline());

    // Assert
    expect(endpoint.sent).toHaveLength(1);
    expect(records).toMatchObject([{ delivered: false, attempts: 1, lastStatus: status, lastError: `HTTP ${status}` }]);
  });

  it('stops at a 410 Gone after one attempt and records it', async () => {
    // Arrange
    const endpoint = scripted([410, 204]);
    const { notifier, deadline, clock } = setup(endpoint.fetch);

    // Act
    const records = await notifier.notify(statusOf(), undefined, deadline());

    // Assert
    expect(endpoint.sent).toHaveLength(1);
    expect(clock.slept).toEqual([]);
    expect(records).toMatchObject([
      { delivered: false, attempts: 1, lastStatus: 410, lastError: expect.stringContaining('410') },
    ]);
  });

  it.each([301, 302, 307, 308])('treats a %i redirect as a failure and does not follow it', async (status) => {
    // Arrange
    const endpoint = scripted([{ status, headers: { location: 'https://elsewhere.example.com/' } }]);
    const { notifier, deadline } = setup(endpoint.fetch);

    // Act
    const records = await notifier.notify(statusOf(), undefined, deadline());

    // Assert
    expect(endpoint.sent).toHaveLength(1);
    expect(records).toMatchObject([
      { delivered: false, lastStatus: status, lastError: expect.stringContaining('redirect') },
    ]);
  });

  it('backs off with full jitter, capped at 5 s, and gives up after maxAttempts', async () => {
    // Arrange
    const endpoint = fakeFetch(() => 500);
    const { notifier, deadline, clock } = setup(endpoint.fetch, { random: () => 0.999, maxAttempts: 6 });

    // Act
    const records = await notifier.notify(statusOf(), undefined, deadline(60_000));

    // Assert
    expect(endpoint.sent).toHaveLength(6);
    expect(clock.slept).toEqual([499, 999, 1998, 3996, 4995]);
    expect(records).toMatchObject([{ delivered: false, attempts: 6, lastStatus: 500, lastError: 'HTTP 500' }]);
  });

  it('stops retrying when the next wait would leave no time for an attempt before the deadline', async () => {
    // Arrange
    const endpoint = fakeFetch(() => 500);
    const { notifier, deadline, clock } = setup(endpoint.fetch, { random: () => 0.999 });

    // Act
    const records = await notifier.notify(statusOf(), undefined, deadline(3_000));

    // Assert: 3000 → wait 499 → 2501 → wait 999 → 1502; a 1998 ms wait would leave under 500 ms.
    expect(clock.slept).toEqual([499, 999]);
    expect(records).toMatchObject([{ delivered: false, attempts: 3 }]);
  });

  it('sends nothing once the deadline has passed, and records why', async () => {
    // Arrange
    const endpoint = scripted([204]);
    const { notifier, deadline } = setup(endpoint.fetch);

    // Act
    const records = await notifier.notify(statusOf(), undefined, deadline(0));

    // Assert
    expect(endpoint.sent).toEqual([]);
    expect(records).toMatchObject([{ delivered: false, attempts: 0, lastError: expect.stringContaining('deadline') }]);
  });

  it('retries network errors and records their code', async () => {
    // Arrange
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
    });
    const endpoint = fakeFetch(() => refused);
    const { notifier, deadline } = setup(endpoint.fetch, { maxAttempts: 3 });

    // Act
    const records = await notifier.notify(statusOf(), undefined, deadline());

    // Assert
    expect(records).toMatchObject([{ delivered: false, attempts: 3, lastError: 'ECONNREFUSED' }]);
    expect(records?.[0]).not.toHaveProperty('lastStatus');
  });

  it('times out a hanging endpoint after timeoutMs per attempt', async () => {
    // Arrange
    const endpoint = fakeFetch(() => 'hang');
    const { notifier, deadline } = setup(endpoint.fetch, { timeoutMs: 50, maxAttempts: 2 });

    // Act
    const records = await notifier.notify(statusOf(), undefined, deadline());

    // Assert
    expect(records).toMatchObject([{ delivered: false, attempts: 2, lastError: 'timeout after 50 ms' }]);
  });

  it('never lets an attempt run past the deadline, even when timeoutMs is longer', async () => {
    // Arrange
    const endpoint = fakeFetch(() => 'hang');
    const { notifier, deadline } = setup(endpoint.fetch, { timeoutMs: 10_000 });

    // Act
    const records = await notifier.notify(statusOf(), undefined, deadline(40));

    // Assert: the clock is frozen, so the budget is exactly the 40 ms left, and no time remains for a retry.
    expect(records).toMatchObject([{ delivered: false, attempts: 1, lastError: 'timeout after 40 ms' }]);
  });

  it('honours Retry-After in seconds', async () => {
    // Arrange
    const endpoint = scripted([{ status: 429, headers: { 'retry-after': '3' } }, 204]);
    const { notifier, deadline, clock } = setup(endpoint.fetch);

    // Act
    const records = await notifier.notify(statusOf(), undefined, deadline());

    // Assert
    expect(clock.slept).toEqual([3_000]);
    expect(records).toMatchObject([{ delivered: true, attempts: 2 }]);
  });

  it('honours Retry-After as an HTTP date', async () => {
    // Arrange
    let retryAt = '';
    const endpoint = fakeFetch((_request, index) =>
      index === 0 ? { status: 503, headers: { 'retry-after': retryAt } } : 204,
    );
    const { notifier, deadline, clock } = setup(endpoint.fetch);
    retryAt = new Date(clock.now() + 4_000).toUTCString();

    // Act
    await notifier.notify(statusOf(), undefined, deadline());

    // Assert
    expect(clock.slept).toEqual([4_000]);
  });

  it('stops instead of retrying early when Retry-After does not fit before the deadline', async () => {
    // Arrange
    const endpoint = scripted([{ status: 503, headers: { 'retry-after': '120' } }, 204]);
    const { notifier, deadline, clock } = setup(endpoint.fetch);

    // Act
    const records = await notifier.notify(statusOf(), undefined, deadline(10_000));

    // Assert
    expect(endpoint.sent).toHaveLength(1);
    expect(clock.slept).toEqual([]);
    expect(records).toMatchObject([{ delivered: false, attempts: 1, lastStatus: 503 }]);
  });

  it('sends nothing to an endpoint that previous records as delivered with the same webhookId', async () => {
    // Arrange
    const endpoint = scripted([204]);
    const { notifier, deadline } = setup(endpoint.fetch);
    const previous: NotificationRecord[] = [
      {
        endpoint: 'hooks.example.com',
        webhookId: webhookIdOf(statusOf()),
        type: 'algolib.registered',
        delivered: true,
        attempts: 2,
        lastStatus: 204,
        at: '2026-11-29T12:00:01.000Z',
      },
    ];

    // Act
    const records = await notifier.notify(statusOf(), previous, deadline());

    // Assert
    expect(endpoint.sent).toEqual([]);
    expect(records).toEqual(previous);
  });

  it('keeps records of other ids and replaces a failed record of the same id', async () => {
    // Arrange
    const endpoint = scripted([204]);
    const { notifier, deadline } = setup(endpoint.fetch);
    const id = webhookIdOf(statusOf());
    const pending: NotificationRecord = {
      endpoint: 'hooks.example.com',
      webhookId: webhookIdOf(statusOf({ state: 'PENDING' })),
      type: 'algolib.pending',
      delivered: true,
      attempts: 1,
      at: '2026-11-29T11:59:00.000Z',
    };
    const failed: NotificationRecord = {
      endpoint: 'hooks.example.com',
      webhookId: id,
      type: 'algolib.registered',
      delivered: false,
      attempts: 8,
      lastStatus: 503,
      lastError: 'HTTP 503',
      at: '2026-11-29T12:00:01.000Z',
    };

    // Act
    const records = await notifier.notify(statusOf(), [pending, failed], deadline());

    // Assert
    expect(endpoint.sent).toHaveLength(1);
    expect(records).toEqual([pending, expect.objectContaining({ webhookId: id, delivered: true, attempts: 1 })]);
  });

  it('does not send a PENDING status by default, and resolves to undefined', async () => {
    // Arrange
    const endpoint = scripted([204]);
    const { notifier, deadline } = setup(endpoint.fetch);

    // Act
    const records = await notifier.notify(
      statusOf({ state: 'PENDING', waitingFor: 'manifest' }),
      undefined,
      deadline(),
    );

    // Assert
    expect(records).toBeUndefined();
    expect(endpoint.sent).toEqual([]);
  });

  it('sends only the configured states', async () => {
    // Arrange
    const endpoint = scripted([204]);
    const { notifier, deadline } = setup(endpoint.fetch, { states: ['PENDING', 'FAILED'] });

    // Act
    const registered = await notifier.notify(statusOf(), undefined, deadline());
    const pending = await notifier.notify(statusOf({ state: 'PENDING' }), undefined, deadline());

    // Assert
    expect(registered).toBeUndefined();
    expect(pending).toMatchObject([{ type: 'algolib.pending', delivered: true }]);
    expect(endpoint.sent).toHaveLength(1);
  });

  it('resolves to undefined when no endpoint is configured', async () => {
    // Arrange
    const endpoint = scripted([]);
    const { notifier, deadline } = setup(endpoint.fetch, { endpoints: [] });

    // Act & Assert
    expect(await notifier.notify(statusOf(), undefined, deadline())).toBeUndefined();
  });

  it('delivers to every endpoint concurrently', async () => {
    // Arrange: the first endpoint answers only once the second has been called, which a serial loop never reaches.
    let secondCalled: () => void = () => {};
    const second = new Promise<void>((resolve) => {
      secondCalled = resolve;
    });
    const endpoint = fakeFetch(async (request) => {
      if (request.url.startsWith('https://b.example.com')) secondCalled();
      else await second;
      return 204;
    });
    const { notifier, deadline } = setup(endpoint.fetch, {
      endpoints: [
        { url: 'https://a.example.com/hook', secrets: [SECRET] },
        { url: 'https://b.example.com:8443/hook', secrets: [newSecret()] },
      ],
    });

    // Act
    const records = await notifier.notify(statusOf(), undefined, deadline());

    // Assert
    expect(records).toMatchObject([
      { endpoint: 'a.example.com', delivered: true, attempts: 1 },
      { endpoint: 'b.example.com:8443', delivered: true, attempts: 1 },
    ]);
  });

  it('never puts a secret, a signature or the full URL in the payload, other headers or log lines', async () => {
    // Arrange
    const endpoint = scripted([500, 204]);
    const { notifier, deadline, lines } = setup(endpoint.fetch);

    // Act
    const records = await notifier.notify(statusOf(), undefined, deadline());

    // Assert
    const secretParts = [SECRET, SECRET.replace('whsec_', '')];
    const signatures = endpoint.sent.map((request) => request.headers['webhook-signature'] ?? '');
    const { 'webhook-signature': _signature, ...otherHeaders } = endpoint.sent[0]?.headers ?? {};
    const exposed = [endpoint.sent[0]?.body, JSON.stringify(otherHeaders), JSON.stringify(records), ...lines].join(
      '\n',
    );
    for (const secret of [...secretParts, ...signatures, URL_TOKEN]) expect(exposed).not.toContain(secret);
  });

  it('logs one line per delivery outcome with host, id, attempts, status and outcome', async () => {
    // Arrange
    const endpoint = fakeFetch((request) => (request.url.startsWith('https://gone.example.com') ? 410 : 204));
    const { notifier, deadline, lines } = setup(endpoint.fetch, {
      endpoints: [ENDPOINT, { url: 'https://gone.example.com/hook', secrets: [SECRET] }],
    });

    // Act
    await notifier.notify(statusOf(), undefined, deadline());

    // Assert
    const entries = lines.map((line) => JSON.parse(line));
    expect(entries).toHaveLength(2);
    expect(entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          level: 'info',
          step: 'webhook.delivery',
          endpoint: 'hooks.example.com',
          webhookId: webhookIdOf(statusOf()),
          attempts: 1,
          status: 204,
          delivered: true,
        }),
        expect.objectContaining({
          level: 'warn',
          endpoint: 'gone.example.com',
          attempts: 1,
          status: 410,
          delivered: false,
        }),
      ]),
    );
  });

  it('never throws: a failing sleep ends the delivery as an undelivered record', async () => {
    // Arrange
    const endpoint = scripted([500, 204]);
    const { notifier, deadline } = setup(endpoint.fetch, {
      sleep: () => Promise.reject(new Error('timer gone')),
    });

    // Act
    const records = await notifier.notify(statusOf(), undefined, deadline());

    // Assert
    expect(records).toMatchObject([{ delivered: false, attempts: 1, lastError: 'Error' }]);
  });
});
