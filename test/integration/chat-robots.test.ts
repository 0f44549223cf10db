/**
 * Chat robots over HTTP: our sender against the local robots (which check signatures and rate limits the way the real
 * ones document them), and end to end on the local cloud: publish → the register function → a verified message.
 */
import OSS from 'ali-oss';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ChatRobotReceiver, startChatRobotReceiver } from '../../local/chat-robot-receiver.ts';
import { type LocalCloud, startLocalCloud } from '../../local/cloud.ts';
import { chatRobotChannel } from '../../shared/chat-robots.ts';
import type { ChatRobot, ChatRobotKind } from '../../shared/config.ts';
import { crc64 } from '../../shared/crc64.ts';
import { statusKeyOf } from '../../shared/keys.ts';
import { createLogger } from '../../shared/log.ts';
import { createNotifier } from '../../shared/notifier.ts';
import { createRateWindow } from '../../shared/rate-window.ts';
import { deadlineAt } from '../../shared/retry.ts';
import type { StatusDocument } from '../../shared/status.ts';
import { validManifest } from '../fakes/register-deps.ts';
import { sampleStatus } from '../fixtures/status-document.ts';

const KINDS: ChatRobotKind[] = ['dingtalk', 'wecom', 'lark'];
let robot: ChatRobotReceiver | undefined;

afterEach(async () => {
  await robot?.close();
  robot = undefined;
});

const notifierFor = (config: ChatRobot) => {
  const lines: string[] = [];
  const channel = chatRobotChannel(config, { statusPrefix: 'status/', rateWindow: createRateWindow() });
  const log = createLogger(
    {},
    () => [],
    (line) => lines.push(line),
  );
  return { notifier: createNotifier({ channels: [channel], timeoutMs: 2_000, log }), lines };
};

const release = (index: number): StatusDocument =>
  sampleStatus({ package: { bucket: 'b', key: `library/face/face-1.2.${index}.tar.gz`, etag: `E${index}` } });

describe('startChatRobotReceiver', () => {
  it('listens on loopback only', async () => {
    // Act / Assert
    await expect(startChatRobotReceiver({ kind: 'lark', host: '0.0.0.0' })).rejects.toThrow('loopback');
  });

  it.each(KINDS)('accepts a %s message from our sender and shows what the group reads', async (kind) => {
    // Arrange
    robot = await startChatRobotReceiver({ kind });
    const { notifier } = notifierFor({ kind, url: robot.url, ...(robot.secret ? { secret: robot.secret } : {}) });

    // Act
    const records = await notifier.notify(sampleStatus(), undefined, deadlineAt(Date.now() + 10_000));

    // Assert
    expect(records).toMatchObject([{ kind, delivered: true, attempts: 1, lastStatus: 200 }]);
    expect(robot.messages()).toMatchObject([
      {
        kind,
        accepted: true,
        code: 0,
        verified: kind !== 'wecom',
        text: expect.stringContaining('face 1.2.0 registered'),
      },
    ]);
  });

  it.each(['dingtalk', 'lark'] as const)(
    'refuses a %s message signed with the wrong secret; our sender stops and names the fix',
    async (kind) => {
      // Arrange
      robot = await startChatRobotReceiver({ kind });
      const { notifier, lines } = notifierFor({ kind, url: robot.url, secret: 'not-the-robots-secret' });

      // Act
      const records = await notifier.notify(sampleStatus(), undefined, deadlineAt(Date.now() + 10_000));

      // Assert
      expect(robot.messages()).toMatchObject([
        { accepted: false, verified: false, code: kind === 'lark' ? 19021 : 310000 },
      ]);
      expect(records).toMatchObject([
        { delivered: false, attempts: 1, lastError: expect.stringContaining('Fix: the robot') },
      ]);
      expect(lines.join('\n')).not.toContain('not-the-robots-secret');
    },
  );

  it('refuses a DingTalk message whose timestamp is more than an hour old (310000 invalid timestamp)', async () => {
    // Arrange: the robot's clock is two hours ahead of ours.
    robot = await startChatRobotReceiver({ kind: 'dingtalk', now: () => Date.now() + 2 * 3_600_000 });
    const { notifier } = notifierFor({ kind: 'dingtalk', url: robot.url, secret: robot.secret as string });

    // Act
    await notifier.notify(sampleStatus(), undefined, deadlineAt(Date.now() + 10_000));

    // Assert
    expect(robot.messages()).toMatchObject([{ accepted: false, code: 310000, answer: 'invalid timestamp' }]);
  });

  it('refuses a message without a required keyword (DingTalk 310000 keywords not in content)', async () => {
    // Arrange
    robot = await startChatRobotReceiver({ kind: 'dingtalk', secret: null, keywords: ['release train'] });
    const { notifier } = notifierFor({ kind: 'dingtalk', url: robot.url });

    // Act
    const records = await notifier.notify(sampleStatus(), undefined, deadlineAt(Date.now() + 10_000));

    // Assert
    expect(records?.[0]?.lastError).toContain('add "algolib" to its custom keywords');
  });

  it('answers WeCom’s 45009 past its limit; our sender does not retry inside a budget shorter than the window', async () => {
    // Arrange: a robot with a limit of 2 a minute, a sender that believes in 20 (another sender shares the robot).
    robot = await startChatRobotReceiver({ kind: 'wecom', limits: [{ max: 2, perMs: 60_000 }] });
    const { notifier } = notifierFor({ kind: 'wecom', url: robot.url });

    // Act: the third message is refused with 45009; its retry waits the one-minute window, past this deadline.
    const results = [];
    for (let index = 0; index < 3; index += 1) {
      results.push(await notifier.notify(release(index), undefined, deadlineAt(Date.now() + 5_000)));
    }

    // Assert
    expect(robot.messages().map((message) => message.code)).toEqual([0, 0, 45009]);
    expect(results[2]).toMatchObject([{ delivered: false, attempts: 1, lastError: expect.stringContaining('45009') }]);
  });

  it('answers with the credential’s error when the token in the URL is wrong', async () => {
    // Arrange
    robot = await startChatRobotReceiver({ kind: 'wecom' });
    const { notifier } = notifierFor({ kind: 'wecom', url: robot.url.replace(/key=.*/, 'key=wrong') });

    // Act
    const records = await notifier.notify(sampleStatus(), undefined, deadlineAt(Date.now() + 10_000));

    // Assert
    expect(records).toMatchObject([{ delivered: false, lastError: expect.stringContaining('93000') }]);
  });
});

describe('chat robots end to end on the local cloud', () => {
  let cloud: LocalCloud;
  let client: OSS;

  beforeAll(async () => {
    cloud = await startLocalCloud({ stateFile: false, chat: 'dingtalk', fc: { asyncRetryBaseMs: 20 } });
    const { endpoint, region, bucket, accessKeyId, accessKeySecret } = cloud.state.oss;
    client = new OSS({ endpoint, region, bucket, accessKeyId, accessKeySecret, authorizationV4: true });
  });

  afterAll(async () => {
    await cloud?.close();
  });

  it('publishes a library and the DingTalk robot receives one verified message naming it', async () => {
    // Arrange
    const name = `robot-lib-${Date.now().toString(36)}`;
    const bytes = Buffer.from(`package ${name}`);
    const packageKey = `library/${name}/${name}-1.0.0.tar.gz`;
    const manifest = validManifest({ name, version: '1.0.0', package: { size: bytes.length, crc64: crc64(bytes) } });

    // Act: one event at a time. Two invocations racing to REGISTERED on different instances can each post once:
    // the status record, read before the other's notification write, is the only guard across instances.
    await client.put(packageKey, bytes);
    await cloud.idle();
    await client.put(packageKey.replace(/\.tar\.gz$/, '.manifest.json'), Buffer.from(JSON.stringify(manifest)));
    await cloud.idle();

    // Assert
    const { content } = await client.get(statusKeyOf(packageKey, 'status/'));
    const status = JSON.parse(content.toString('utf8')) as StatusDocument;
    expect(status.state).toBe('REGISTERED');
    expect(status.notifications).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'dingtalk', delivered: true, attempts: 1 })]),
    );
    const messages = cloud.robot?.messages() ?? [];
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ kind: 'dingtalk', accepted: true, verified: true });
    expect(messages[0]?.text).toContain(`${name} 1.0.0 registered`);
    expect(messages[0]?.text).toContain(`Status: \`${statusKeyOf(packageKey, 'status/')}\``);
    expect(JSON.stringify(status)).not.toContain(cloud.robot?.secret as string);
    expect(JSON.stringify(status)).not.toContain(new URL(cloud.robot?.url as string).searchParams.get('access_token'));
  });
});
