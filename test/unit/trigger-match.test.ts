import { describe, expect, it } from 'vitest';
import { matchesOssTrigger, ossTriggersOverlap } from '../../platform/fc/trigger-match.ts';
import type { RoutableOssEventRecord } from '../../platform/oss/event-record.ts';

const trigger = {
  bucketName: 'uploads',
  events: ['oss:ObjectCreated:PutObject', 'oss:ObjectCreated:CompleteMultipartUpload'],
  filter: { prefix: 'library/', suffix: '.manifest.json' },
};

const record = (eventName: string, bucket: string, key: string): RoutableOssEventRecord => ({
  eventName,
  eventSource: 'acs:oss',
  oss: { bucket: { name: bucket }, object: { key, size: 1 } },
});

describe('matchesOssTrigger', () => {
  it.each([
    [
      'a listed event, bucket, prefix and suffix',
      'ObjectCreated:PutObject',
      'uploads',
      'library/face/face-1.0.0.manifest.json',
      true,
    ],
    ['the other listed event', 'ObjectCreated:CompleteMultipartUpload', 'uploads', 'library/a.manifest.json', true],
    ['an event the trigger does not list', 'ObjectCreated:PostObject', 'uploads', 'library/a.manifest.json', false],
    ['a part of a multipart upload', 'ObjectCreated:UploadPart', 'uploads', 'library/a.manifest.json', false],
    ['a removal', 'ObjectRemoved:DeleteObject', 'uploads', 'library/a.manifest.json', false],
    [
      'an event name with the config-style oss: prefix',
      'oss:ObjectCreated:PutObject',
      'uploads',
      'library/a.manifest.json',
      true,
    ],
    ['another bucket', 'ObjectCreated:PutObject', 'other', 'library/a.manifest.json', false],
    ['a key outside the prefix', 'ObjectCreated:PutObject', 'uploads', 'status/library/a.manifest.json', false],
    ['a key with the wrong suffix', 'ObjectCreated:PutObject', 'uploads', 'library/a.tar.gz', false],
    ['a prefix that only differs in case', 'ObjectCreated:PutObject', 'uploads', 'Library/a.manifest.json', false],
    ['a key that is exactly prefix + suffix', 'ObjectCreated:PutObject', 'uploads', 'library/.manifest.json', true],
    [
      'a key with spaces and CJK characters',
      'ObjectCreated:PutObject',
      'uploads',
      'library/人脸 识别.manifest.json',
      true,
    ],
  ])('%s → %s', (_case, eventName, bucket, key, expected) => {
    expect(matchesOssTrigger(trigger, record(eventName, bucket, key))).toBe(expected);
  });

  it.each([
    ['ObjectCreated:PutObject', true],
    ['ObjectCreated:UploadPart', true],
    ['ObjectCreated:InitiateMultipartUpload', true],
    ['ObjectRemoved:DeleteObject', false],
  ])('oss:ObjectCreated:* matches %s → %s', (eventName, expected) => {
    const wildcard = { ...trigger, events: ['oss:ObjectCreated:*'] };
    expect(matchesOssTrigger(wildcard, record(eventName, 'uploads', 'library/a.manifest.json'))).toBe(expected);
  });

  it('matches any key when Prefix and Suffix are empty', () => {
    const everything = { ...trigger, filter: { prefix: '', suffix: '' } };
    expect(matchesOssTrigger(everything, record('ObjectCreated:PutObject', 'uploads', 'anything/at/all'))).toBe(true);
  });
});

describe('ossTriggersOverlap', () => {
  const tarball = { ...trigger, filter: { prefix: 'library/', suffix: '.tar.gz' } };

  it.each([
    ['the project’s two triggers (same prefix, disjoint suffixes)', trigger, tarball, false],
    ['the same filter twice', trigger, trigger, true],
    [
      'a nested prefix and the same suffix',
      trigger,
      { ...trigger, filter: { prefix: 'library/face/', suffix: '.json' } },
      true,
    ],
    ['a wildcard against a listed event', trigger, { ...trigger, events: ['oss:ObjectCreated:*'] }, true],
    ['disjoint events', trigger, { ...trigger, events: ['oss:ObjectRemoved:DeleteObject'] }, false],
    ['another bucket', trigger, { ...trigger, bucketName: 'other' }, false],
    ['disjoint prefixes', trigger, { ...trigger, filter: { prefix: 'incoming/', suffix: '.manifest.json' } }, false],
  ])('%s → %s', (_case, a, b, expected) => {
    expect(ossTriggersOverlap(a, b)).toBe(expected);
  });
});
