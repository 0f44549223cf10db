import { webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type ChatSummary, chatSummaryOf } from '../../shared/chat-message.ts';
import {
  chatRobotChannel,
  classifyRobotAnswer,
  robotLabel,
  robotMessageOf,
  robotRequestOf,
  signDingTalk,
  signLark,
} from '../../shared/chat-robots.ts';
import type { ChatRobot } from '../../shared/config.ts';
import { createLogger } from '../../shared/log.ts';
import { createNotifier, notificationIdOf } from '../../shared/notifier.ts';
import { createRateWindow } from '../../shared/rate-window.ts';
import { deadlineAt } from '../../shared/retry.ts';
import type { NotificationRecord, StatusDocument } from '../../shared/status.ts';
import { webhookChannel } from '../../shared/webhooks.ts';
import { sampleStatus } from '../fixtures/status-document.ts';

// Canaries: recognisable values that must never appear in a message, a record or a log line.
const DING_TOKEN = 'c4n4ry0d1ngt0k3n0000000000000000000000000000000000000000000000000';
const DING_SECRET = 'SECc4n4ry5ecret00000000000000000000000000000000000000000000000000';
const LARK_SECRET = 'c4n4ry-lark-secret';
const WECOM_KEY = 'c4n4ry-wecom-key-0000-000000000000';
const ROBOTS: Record<ChatRobot['kind'], ChatRobot> = {
  dingtalk: {
    kind: 'dingtalk',
    url: `https://oapi.dingtalk.com/robot/send?access_token=${DING_TOKEN}`,
    secret: DING_SECRET,
  },
  wecom: { kind: 'wecom', url: `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${WECOM_KEY}` },
  lark: { kind: 'lark', url: 'https://open.feishu.cn/open-apis/bot/v2/hook/c4n4ry-hook-id', secret: LARK_SECRET },
};
const CANARIES = [DING_TOKEN, DING_SECRET, LARK_SECRET, WECOM_KEY, 'c4n4ry-hook-id'];

/** Overrides where `undefined` removes the field (a status without `change`, `previous` or `algoLibId`). */
type Overrides = { [K in keyof StatusDocument]?: StatusDocument[K] | undefined };

/** The updated release of the brief's example. */
const updated = (overrides: Overrides = {}): StatusDocument => {
  const status: Record<string, unknown> = {
    ...sampleStatus({
      name: 'face-detector',
      version: '1.0.1',
      algoLibId: '36',
      change: 'updated',
      previous: { version: '1.0.0', packageKey: 'library/face-detector/face-detector-1.0.0.tar.gz' },
      package: { bucket: 'algolib-packages', key: 'library/face-detector/face-detector-1.0.1.tar.gz', etag: 'E1' },
      manifest: { key: 'library/face-detector/face-detector-1.0.1.manifest.json', etag: 'M1' },
      errors: [],
    }),
    ...overrides,
  };
  for (const [field, value] of Object.entries(status)) if (value === undefined) delete status[field];
  return status as StatusDocument;
};

const rejected = (count: number) =>
  updated({
    state: 'REJECTED',
    change: undefined,
    previous: undefined,
    algoLibId: undefined,
    errors: Array.from({ length: count }, (_, index) => ({
      code: 'MANIFEST_INVALID',
      path: `inputs.${index}.shape`,
      message: `Expected an array of positive integers, see https://internal.example.com/docs/${index}`,
    })),
  });

// The robots' algorithms as their pages state them, written with WebCrypto (not node:crypto, not our signer).
const hmacBase64 = async (key: string, message: string) => {
  const encoder = new TextEncoder();
  const imported = await webcrypto.subtle.importKey(
    'raw',
    encoder.encode(key),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return Buffer.from(await webcrypto.subtle.sign('HMAC', imported, encoder.encode(message))).toString('base64');
};
/** DingTalk: HmacSHA256 keyed by the secret over `timestamp + "\n" + secret`, base64, then urlEncode (quote_plus). */
const dingTalkSign = async (secret: string, timestamp: string) =>
  encodeURIComponent(await hmacBase64(secret, `${timestamp}\n${secret}`));
/** Lark: HmacSHA256 keyed by `timestamp + "\n" + secret` over an empty message, base64. */
const larkSign = async (secret: string, timestamp: string) => hmacBase64(`${timestamp}\n${secret}`, '');

type Sent = { url: string; body: string };
/** A robot that answers each request with the scripted JSON (then `{errcode: 0}` / `{code: 0}`). */
const fakeRobot = (answers: Array<Record<string, unknown>> = []) => {
  const sent: Sent[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    sent.push({ url: String(input), body: String(init?.body) });
    const answer = answers[sent.length - 1] ?? { errcode: 0, code: 0, errmsg: 'ok', msg: 'success' };
    return new Response(JSON.stringify(answer), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return { fetch, sent };
};

const setup = (robot: ChatRobot, fetch: typeof globalThis.fetch, consoleUrl?: string) => {
  let time = Math.floor(Date.now() / 1000) * 1000;
  const slept: number[] = [];
  const clock = {
    now: () => time,
    sleep: async (ms: number) => {
      slept.push(ms);
      time += ms;
    },
  };
  const lines: string[] = [];
  const log = createLogger(
    { requestId: 'req-1' },
    () => [],
    (line) => lines.push(line),
  );
  const rateWindow = createRateWindow();
  const channel = chatRobotChannel(robot, {
    statusPrefix: 'status/',
    consoleUrl,
    rateWindow,
    fetch,
    now: clock.now,
  });
  const notifier = createNotifier({
    channels: [channel],
    timeoutMs: 1_000,
    log,
    now: clock.now,
    sleep: clock.sleep,
    random: () => 0.5,
  });
  const deadline = (ms = 30_000) => deadlineAt(clock.now() + ms, clock.now);
  return { notifier, deadline, slept, lines, clock, channel };
};

describe('chatSummaryOf', () => {
  it('reads an update as "name old → new registered (AlgoLibId n)"', () => {
    // Act
    const summary = chatSummaryOf(updated(), { statusPrefix: 'status/' });

    // Assert
    expect(summary).toEqual({
      title: 'algolib: face-detector 1.0.0 → 1.0.1 registered (AlgoLibId 36)',
      headline: 'face-detector 1.0.0 → 1.0.1 registered (AlgoLibId 36)',
      tone: 'good',
      details: [],
      statusKey: 'status/library/face-detector/face-detector-1.0.1.json',
    });
  });

  it.each<[string, Overrides, string]>([
    [
      'a new library',
      { change: 'created', previous: undefined },
      'face-detector 1.0.1 registered as a new library (AlgoLibId 36)',
    ],
    [
      'an unchanged upload',
      { change: 'unchanged', previous: undefined },
      'face-detector 1.0.1 already registered, nothing changed (AlgoLibId 36)',
    ],
    [
      'a status without change (older core)',
      { change: undefined, previous: undefined },
      'face-detector 1.0.1 registered (AlgoLibId 36)',
    ],
    ['a conflict', { state: 'CONFLICT', algoLibId: undefined }, 'face-detector 1.0.1 not registered: name conflict'],
    ['a failure', { state: 'FAILED', algoLibId: undefined }, 'face-detector 1.0.1 failed; FC runs it again'],
    [
      'a rejection before the manifest was read',
      {
        state: 'REJECTED',
        name: undefined,
        version: undefined,
        errors: [{ code: 'MANIFEST_INVALID', message: 'not JSON' }],
      },
      'face-detector-1.0.1.tar.gz rejected: 1 error',
    ],
  ])('reads %s at a glance', (_case, overrides, headline) => {
    // Act / Assert
    expect(chatSummaryOf(updated(overrides), { statusPrefix: 'status/' }).headline).toBe(headline);
  });

  it('lists at most five errors with their paths, then "and N more", without the URLs in their messages', () => {
    // Act
    const summary = chatSummaryOf(rejected(7), { statusPrefix: 'status/' });

    // Assert
    expect(summary.headline).toBe('face-detector 1.0.1 rejected: 7 errors');
    expect(summary.tone).toBe('bad');
    expect(summary.details).toEqual([
      'inputs.0.shape: Expected an array of positive integers, see (link removed)',
      'inputs.1.shape: Expected an array of positive integers, see (link removed)',
      'inputs.2.shape: Expected an array of positive integers, see (link removed)',
      'inputs.3.shape: Expected an array of positive integers, see (link removed)',
      'inputs.4.shape: Expected an array of positive integers, see (link removed)',
      'and 2 more',
    ]);
  });

  it('links to the library’s console page only when a console URL is configured', () => {
    // Act
    const linked = chatSummaryOf(updated(), { statusPrefix: 'status/', consoleUrl: 'https://console.example.com/' });
    const plain = chatSummaryOf(updated(), { statusPrefix: 'status/' });

    // Assert
    expect(linked.link).toEqual({
      label: 'Open in the console',
      url: 'https://console.example.com/libraries/face-detector',
    });
    expect(plain).not.toHaveProperty('link');
  });
});

describe('robot signatures, checked against each robot’s documented algorithm', () => {
  it('signs DingTalk messages in the query string as 加签 documents it (timestamp in ms, sign urlEncoded)', async () => {
    // Arrange
    const now = 1_764_000_000_123;

    // Act
    const { url } = robotRequestOf(ROBOTS.dingtalk, { msgtype: 'markdown' }, now);

    // Assert: compare the raw query text, so the URL-encoding step is checked too.
    const query = new URL(url).search;
    expect(query).toContain(`timestamp=${now}`);
    expect(query).toContain(`&sign=${await dingTalkSign(DING_SECRET, String(now))}`);
    expect(query).toContain(`access_token=${DING_TOKEN}`);
  });

  it('signs Lark messages in the body (timestamp in seconds, key timestamp\\nsecret, empty message)', async () => {
    // Arrange
    const now = 1_599_360_473_999;

    // Act
    const { url, body } = robotRequestOf(ROBOTS.lark, { msg_type: 'interactive' }, now);

    // Assert
    const parsed = JSON.parse(body);
    expect(url).toBe(ROBOTS.lark.url);
    expect(parsed.timestamp).toBe('1599360473');
    expect(parsed.sign).toBe(await larkSign(LARK_SECRET, '1599360473'));
    expect(parsed.msg_type).toBe('interactive');
  });

  it('exposes the same algorithms as signDingTalk and signLark', async () => {
    // Act / Assert
    expect(encodeURIComponent(signDingTalk('this is secret', 1_700_000_000_000))).toBe(
      await dingTalkSign('this is secret', '1700000000000'),
    );
    expect(signLark('this is secret', 1_700_000_000)).toBe(await larkSign('this is secret', '1700000000'));
  });

  it('sends WeCom messages unsigned, to the URL with its key', () => {
    // Act
    const { url, body } = robotRequestOf(ROBOTS.wecom, { msgtype: 'markdown' }, Date.now());

    // Assert
    expect(url).toBe(ROBOTS.wecom.url);
    expect(JSON.parse(body)).toEqual({ msgtype: 'markdown' });
  });
});

describe('robotMessageOf', () => {
  const summary: ChatSummary = chatSummaryOf(rejected(2), {
    statusPrefix: 'status/',
    consoleUrl: 'https://console.example.com',
  });

  it('renders DingTalk markdown with a title', () => {
    // Act / Assert
    expect(robotMessageOf('dingtalk', summary)).toMatchInlineSnapshot(`
      {
        "markdown": {
          "text": "#### algolib · face-detector 1.0.1 rejected: 2 errors

      - inputs.0.shape: Expected an array of positive integers, see (link removed)
      - inputs.1.shape: Expected an array of positive integers, see (link removed)

      Status: \`status/library/face-detector/face-detector-1.0.1.json\`

      [Open in the console](https://console.example.com/libraries/face-detector)",
          "title": "algolib: face-detector 1.0.1 rejected: 2 errors",
        },
        "msgtype": "markdown",
      }
    `);
  });

  it('renders WeCom markdown within its 4096-byte limit', () => {
    // Arrange
    const long = chatSummaryOf(rejected(5), { statusPrefix: 'status/' });
    const huge = { ...long, details: long.details.map((line) => line.repeat(20)) };

    // Act
    const message = robotMessageOf('wecom', huge) as { markdown: { content: string } };

    // Assert
    expect(message.markdown.content.startsWith('### algolib · face-detector 1.0.1 rejected')).toBe(true);
    expect(Buffer.byteLength(message.markdown.content)).toBeLessThanOrEqual(4096);
  });

  it('renders a Lark interactive card, red for a rejection', () => {
    // Act
    const message = robotMessageOf('lark', summary) as { card: { header: { template: string } } };

    // Assert
    expect(message).toMatchObject({ msg_type: 'interactive' });
    expect(message.card.header).toEqual({
      title: { tag: 'plain_text', content: 'algolib: face-detector 1.0.1 rejected: 2 errors' },
      template: 'red',
    });
  });
});

describe('classifyRobotAnswer', () => {
  it.each<[ChatRobot['kind'], Record<string, unknown>, string]>([
    ['dingtalk', { errcode: 0, errmsg: 'ok' }, 'delivered'],
    ['wecom', { errcode: 0, errmsg: 'ok' }, 'delivered'],
    ['lark', { code: 0, msg: 'success', data: {} }, 'delivered'],
    ['lark', { StatusCode: 0, StatusMessage: 'success' }, 'delivered'],
    ['dingtalk', { errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' }, 'retry'],
    ['dingtalk', { errcode: 410100, errmsg: 'send too fast' }, 'retry'],
    ['wecom', { errcode: 45009, errmsg: 'api freq out of limit' }, 'retry'],
    ['lark', { code: 11232, msg: 'frequency limited' }, 'retry'],
    ['dingtalk', { errcode: -1, errmsg: 'system busy' }, 'retry'],
    ['dingtalk', { errcode: 310000, errmsg: 'sign not match' }, 'stop'],
    ['dingtalk', { errcode: 310000, errmsg: 'keywords not in content' }, 'stop'],
    ['lark', { code: 19021, msg: 'sign match fail or timestamp is not within one hour from current time' }, 'stop'],
    ['wecom', { errcode: 93000, errmsg: 'invalid webhook url' }, 'stop'],
    ['dingtalk', { errcode: 400013, errmsg: 'group dissolved' }, 'stop'],
  ])('%s %j → %s', (kind, answer, outcome) => {
    // Act / Assert
    expect(classifyRobotAnswer(kind, 200, JSON.stringify(answer), Date.now(), null).outcome).toBe(outcome);
  });

  it('waits the documented window after a rate-limit answer: 10 min DingTalk, 1 min WeCom', () => {
    // Act
    const ding = classifyRobotAnswer('dingtalk', 200, '{"errcode":130101,"errmsg":"send too fast"}', 0, null);
    const wecom = classifyRobotAnswer('wecom', 200, '{"errcode":45009,"errmsg":"api freq out of limit"}', 0, null);

    // Assert
    expect(ding).toMatchObject({ outcome: 'retry', retryAfterMs: 600_000 });
    expect(wecom).toMatchObject({ outcome: 'retry', retryAfterMs: 60_000 });
  });

  it('treats HTTP errors as webhooks do, and strips documentation links from the robot’s message', () => {
    // Act / Assert
    expect(classifyRobotAnswer('lark', 503, '', 0, null)).toMatchObject({ outcome: 'retry', status: 503 });
    expect(classifyRobotAnswer('lark', 404, '', 0, null)).toMatchObject({ outcome: 'stop', status: 404 });
    expect(
      classifyRobotAnswer(
        'dingtalk',
        200,
        '{"errcode":310000,"errmsg":"sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}',
        0,
        null,
      ),
    ).toMatchObject({ error: 'DingTalk errcode 310000: sign not match, more: [(link)]' });
  });
});

describe('chat robot delivery', () => {
  it('delivers one message per robot and records it with its kind and a label without the token', async () => {
    // Arrange
    const robot = fakeRobot();
    const { notifier, deadline } = setup(ROBOTS.dingtalk, robot.fetch);

    // Act
    const records = await notifier.notify(updated(), undefined, deadline());

    // Assert
    expect(robot.sent).toHaveLength(1);
    expect(records).toEqual([
      {
        kind: 'dingtalk',
        endpoint: robotLabel(ROBOTS.dingtalk.url),
        webhookId: notificationIdOf(updated()),
        type: 'algolib.registered',
        delivered: true,
        attempts: 1,
        lastStatus: 200,
        at: expect.any(String),
      },
    ]);
    expect(records?.[0]?.endpoint).toMatch(/^oapi\.dingtalk\.com#[0-9a-f]{8}$/);
  });

  it('sends nothing when previous records this robot as delivered for the same outcome (duplicate events)', async () => {
    // Arrange
    const robot = fakeRobot();
    const { notifier, deadline } = setup(ROBOTS.wecom, robot.fetch);
    const first = await notifier.notify(updated(), undefined, deadline());

    // Act
    const again = await notifier.notify(updated(), first, deadline());

    // Assert
    expect(robot.sent).toHaveLength(1);
    expect(again).toEqual(first);
  });

  it('posts once when two invocations on one instance notify the same outcome at the same time', async () => {
    // Arrange
    const robot = fakeRobot();
    const { notifier, deadline } = setup(ROBOTS.lark, robot.fetch);

    // Act
    const [first, second] = await Promise.all([
      notifier.notify(updated(), undefined, deadline()),
      notifier.notify(updated(), undefined, deadline()),
    ]);

    // Assert
    expect(robot.sent).toHaveLength(1);
    expect([first, second]).toMatchObject([[{ delivered: true }], [{ delivered: true }]]);
  });

  it('keeps a webhook record with the same endpoint and id apart from a robot’s (kinds differ)', async () => {
    // Arrange
    const robot = fakeRobot();
    const { notifier, deadline } = setup(ROBOTS.wecom, robot.fetch);
    const webhookRecord: NotificationRecord = {
      endpoint: robotLabel(ROBOTS.wecom.url),
      webhookId: notificationIdOf(updated()),
      type: 'algolib.registered',
      delivered: true,
      attempts: 1,
      at: '2026-11-29T12:00:00.000Z',
    };

    // Act
    const records = await notifier.notify(updated(), [webhookRecord], deadline());

    // Assert
    expect(robot.sent).toHaveLength(1);
    expect(records).toHaveLength(2);
  });

  it('queues the 21st message to a DingTalk robot in a minute until a slot frees, inside the deadline', async () => {
    // Arrange
    const robot = fakeRobot();
    const { notifier, deadline, slept, clock } = setup(ROBOTS.dingtalk, robot.fetch);
    const start = clock.now();

    // Act: 21 releases of different packages, one after the other, in one instance.
    const records: Array<NotificationRecord[] | undefined> = [];
    for (let release = 0; release < 21; release += 1) {
      const status = updated({ package: { bucket: 'b', key: `library/face-detector/r${release}.tar.gz`, etag: 'E' } });
      records.push(await notifier.notify(status, undefined, deadline(120_000)));
    }

    // Assert
    expect(robot.sent).toHaveLength(21);
    expect(slept).toEqual([60_000]);
    expect(clock.now() - start).toBe(60_000);
    expect(records.every((list) => list?.[0]?.delivered)).toBe(true);
  });

  it('does not queue past the deadline: the message is recorded as not delivered, nothing sent', async () => {
    // Arrange
    const robot = fakeRobot();
    const { notifier, deadline } = setup(ROBOTS.wecom, robot.fetch);
    for (let release = 0; release < 20; release += 1) {
      const status = updated({ package: { bucket: 'b', key: `library/x/r${release}.tar.gz`, etag: 'E' } });
      await notifier.notify(status, undefined, deadline());
    }

    // Act
    const records = await notifier.notify(updated(), undefined, deadline(10_000));

    // Assert
    expect(robot.sent).toHaveLength(20);
    expect(records).toMatchObject([
      {
        kind: 'wecom',
        delivered: false,
        attempts: 1,
        lastError: expect.stringContaining('no free slot before the deadline'),
      },
    ]);
  });

  it('retries a WeCom rate-limit answer (45009) after the one-minute window and records the later delivery', async () => {
    // Arrange
    const robot = fakeRobot([{ errcode: 45009, errmsg: 'api freq out of limit' }]);
    const { notifier, deadline, slept } = setup(ROBOTS.wecom, robot.fetch);

    // Act
    const records = await notifier.notify(updated(), undefined, deadline(120_000));

    // Assert
    expect(slept).toEqual([60_000]);
    expect(robot.sent).toHaveLength(2);
    expect(records).toMatchObject([{ delivered: true, attempts: 2 }]);
  });

  it('gives up on a DingTalk throttle (10 minutes) that does not fit the budget, and says so', async () => {
    // Arrange
    const robot = fakeRobot([{ errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' }]);
    const { notifier, deadline, slept } = setup(ROBOTS.dingtalk, robot.fetch);

    // Act
    const records = await notifier.notify(updated(), undefined, deadline(60_000));

    // Assert
    expect(slept).toEqual([]);
    expect(records).toMatchObject([
      {
        delivered: false,
        attempts: 1,
        lastError: 'DingTalk errcode 130101: send too fast, exceed 20 times per minute',
      },
    ]);
  });

  it('stops at a wrong DingTalk secret (310000 sign not match) and names the fix in the record and the log', async () => {
    // Arrange
    const robot = fakeRobot([{ errcode: 310000, errmsg: 'sign not match' }]);
    const { notifier, deadline, lines } = setup(ROBOTS.dingtalk, robot.fetch);

    // Act
    const records = await notifier.notify(updated(), undefined, deadline());

    // Assert
    expect(robot.sent).toHaveLength(1);
    expect(records?.[0]).toMatchObject({ delivered: false, attempts: 1 });
    expect(records?.[0]?.lastError).toMatchInlineSnapshot(
      `"DingTalk errcode 310000: sign not match. Fix: the robot's 加签 secret does not match: copy the SEC… secret from the robot's security settings into CHAT_ROBOTS (and check the function's clock is within an hour)"`,
    );
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      level: 'warn',
      step: 'chat.delivery',
      kind: 'dingtalk',
      fix: expect.stringContaining('SEC… secret'),
    });
  });

  it('stops at a wrong Lark secret (19021) and names the fix', async () => {
    // Arrange
    const robot = fakeRobot([
      { code: 19021, msg: 'sign match fail or timestamp is not within one hour from current time' },
    ]);
    const { notifier, deadline } = setup(ROBOTS.lark, robot.fetch);

    // Act
    const records = await notifier.notify(updated(), undefined, deadline());

    // Assert
    expect(records?.[0]).toMatchObject({
      delivered: false,
      attempts: 1,
      lastError: expect.stringContaining('Fix: the robot'),
    });
  });

  it.each(['dingtalk', 'wecom', 'lark'] as const)(
    'never puts a %s secret or URL token in a message body, a record or a log line',
    async (kind) => {
      // Arrange
      const robot = fakeRobot([{ errcode: 500, code: 500, errmsg: 'boom', msg: 'boom' }]);
      const { notifier, deadline, lines } = setup(ROBOTS[kind], robot.fetch, 'https://console.example.com');

      // Act
      const records = await notifier.notify(rejected(3), undefined, deadline());
      const again = await notifier.notify(updated(), undefined, deadline());

      // Assert
      const exposed = [...robot.sent.map((request) => request.body), JSON.stringify([records, again]), ...lines].join(
        '\n',
      );
      for (const canary of CANARIES) expect(exposed).not.toContain(canary);
      expect(exposed).not.toContain('internal.example.com');
    },
  );
});

describe('createNotifier', () => {
  it('makes no attempt when a late timer wakes past the deadline', async () => {
    // Arrange: the endpoint answers 503 once; the sleep before the retry overshoots by 10 s, as on a loaded machine.
    const sent: string[] = [];
    const fetch: typeof globalThis.fetch = async (input) => {
      sent.push(String(input));
      return new Response(null, { status: sent.length === 1 ? 503 : 204 });
    };
    let time = Date.now();
    const channel = webhookChannel(
      { url: 'https://hooks.example.com/in', secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] },
      { fetch, now: () => time },
    );
    const notifier = createNotifier({
      channels: [channel],
      timeoutMs: 1_000,
      log: createLogger(
        {},
        () => [],
        () => {},
      ),
      now: () => time,
      sleep: async (ms) => {
        time += ms + 10_000;
      },
      random: () => 0.5,
    });

    // Act
    const records = await notifier.notify(
      updated(),
      undefined,
      deadlineAt(time + 3_000, () => time),
    );

    // Assert
    expect(sent).toHaveLength(1);
    expect(records).toMatchObject([
      { delivered: false, attempts: 2, lastError: 'deadline reached before the attempt' },
    ]);
  });
});
