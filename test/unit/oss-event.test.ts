import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EventParseError } from '../../shared/errors.ts';
import { parseObjectEvents } from '../../shared/oss-event.ts';

const fixture = (name: string) => structuredClone(JSON.parse(readFileSync(`test/fixtures/events/${name}`, 'utf8')));
const asBuffer = (payload: unknown) => Buffer.from(JSON.stringify(payload));

/** What oss-put-package.json (and the first envelope of cloudevent-batch.json) parses to. */
const PACKAGE_EVENT = {
  eventName: 'ObjectCreated:PutObject',
  bucket: 'algolib-packages',
  key: 'library/face/face-1.2.0.tar.gz',
  size: 423,
  etag: '688A7BF4F233DC9C88A80BF985AB0C1D',
  eventTime: '2026-11-29T06:45:43.000Z',
};

describe('parseObjectEvents', () => {
  it('reads the native FC OSS event from a Buffer', () => {
    // Arrange
    const payload = fixture('oss-put-package.json');

    // Act
    const events = parseObjectEvents(asBuffer(payload));

    // Assert
    expect(events).toEqual([PACKAGE_EVENT]);
  });

  it('reads every element of events[], not just the first', () => {
    // Arrange
    const payload = fixture('oss-two-events.json');

    // Act
    const keys = parseObjectEvents(asBuffer(payload)).map((event) => event.key);

    // Assert
    expect(keys).toEqual(['library/face/face-1.2.0.tar.gz', 'library/face/face-1.2.0.manifest.json']);
  });

  it('reads the EventBridge CloudEvents envelope', () => {
    // Arrange
    const payload = fixture('cloudevent-put-manifest.json');

    // Act
    const events = parseObjectEvents(asBuffer(payload));

    // Assert
    expect(events).toMatchObject([
      { eventName: 'ObjectCreated:PutObject', key: 'library/face/face-1.2.0.manifest.json' },
    ]);
  });

  it('reads every envelope of an EventBridge batch (a JSON array of CloudEvents), in order', () => {
    // Arrange
    const payload = fixture('cloudevent-batch.json');

    // Act
    const events = parseObjectEvents(asBuffer(payload));

    // Assert
    expect(events).toEqual([
      PACKAGE_EVENT,
      {
        eventName: 'ObjectCreated:PutObject',
        bucket: 'algolib-packages',
        key: 'library/face/face-1.2.0.manifest.json',
        size: 1800,
        etag: '0B3F2C8D6F1A4E5B9C7D8E2F1A3B4C5D',
        eventTime: '2026-11-29T06:45:43.000Z',
      },
    ]);
  });

  it('reads an empty batch as no events, and names the index of an envelope that does not parse', () => {
    // Arrange
    const [first, second] = fixture('cloudevent-batch.json');
    delete second.data.oss.object.key;

    // Act
    const empty = parseObjectEvents(asBuffer([]));
    const broken = () => parseObjectEvents(asBuffer([first, second]));

    // Assert
    expect(empty).toEqual([]);
    expect(broken).toThrow(EventParseError);
    expect(broken).toThrow(/failing at `1\.data\.oss\.object\.key`/);
  });

  it('keeps keys raw: spaces, plus signs, percent signs and CJK characters are not decoded', () => {
    // Arrange
    const payload = fixture('oss-put-cjk-key.json');

    // Act
    const [event] = parseObjectEvents(asBuffer(payload));

    // Assert
    expect(event?.key).toBe('library/人脸 检测/face+det%1-1.0.0.tar.gz');
  });

  it.each([
    ['oss-complete-multipart.json', 'ObjectCreated:CompleteMultipartUpload'],
    ['oss-upload-part.json', 'ObjectCreated:UploadPart'],
    ['oss-initiate-multipart.json', 'ObjectCreated:InitiateMultipartUpload'],
    ['oss-put-status-key.json', 'ObjectCreated:PutObject'],
  ])('reads %s (whether to act is the pipeline’s call)', (name, eventName) => {
    // Arrange
    const payload = fixture(name);

    // Act
    const [event] = parseObjectEvents(asBuffer(payload));

    // Assert
    expect(event?.eventName).toBe(eventName);
  });

  it('strips an oss: prefix from the event name', () => {
    // Arrange
    const payload = fixture('oss-put-package.json');
    payload.events[0].eventName = 'oss:ObjectCreated:PutObject';

    // Act
    const [event] = parseObjectEvents(asBuffer(payload));

    // Assert
    expect(event?.eventName).toBe('ObjectCreated:PutObject');
  });

  it.each([
    ['not JSON', 'nope'],
    ['no events', '{}'],
    [
      'a record without a key',
      JSON.stringify({
        events: [{ eventName: 'ObjectCreated:PutObject', oss: { bucket: { name: 'b' }, object: {} } }],
      }),
    ],
    ['a CloudEvent without data', JSON.stringify({ specversion: '1.0' })],
  ])('throws EventParseError for %s', (_case, raw) => {
    // Act / Assert
    expect(() => parseObjectEvents(Buffer.from(raw))).toThrow(EventParseError);
  });
});
