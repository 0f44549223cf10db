import { describe, expect, it } from 'vitest';
import { replayEventOf } from '../../cli/replay.ts';
import { parseObjectEvents } from '../../shared/oss-event.ts';

describe('replayEventOf', () => {
  it('is an FC OSS event the function parses as the manifest upload', () => {
    const event = replayEventOf({
      bucket: 'my-algolibs',
      manifestKey: 'library/face/face-1.2.0.manifest.json',
      manifest: { size: 912, etag: '5B3C1A', crc64: undefined },
      fc: { accountId: '1234567890123456', region: 'cn-shanghai' },
      now: new Date('2026-11-29T12:00:00.000Z'),
      requestId: '58F9FF2D3DF792092E12044C',
    });

    expect(parseObjectEvents(JSON.stringify(event))).toEqual([
      {
        eventName: 'ObjectCreated:PutObject',
        bucket: 'my-algolibs',
        key: 'library/face/face-1.2.0.manifest.json',
        size: 912,
        etag: '5B3C1A',
        eventTime: '2026-11-29T12:00:00.000Z',
      },
    ]);
    expect(event.events[0]).toMatchObject({
      eventSource: 'acs:oss',
      eventVersion: '1.0',
      region: 'cn-shanghai',
      oss: {
        bucket: { arn: 'acs:oss:cn-shanghai:1234567890123456:my-algolibs', ownerIdentity: '1234567890123456' },
        ossSchemaVersion: '1.0',
        ruleId: 'algolib-replay',
      },
      responseElements: { requestId: '58F9FF2D3DF792092E12044C' },
      userIdentity: { principalId: '1234567890123456' },
    });
  });
});
