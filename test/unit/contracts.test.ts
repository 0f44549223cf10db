/**
 * docs/contracts.md holds the project's contracts; this test holds its examples to the code. Every ```json block
 * there is preceded by `<!-- contract: <kind> -->` and parsed here: a manifest through `parseManifest` (what the
 * function runs), every other kind through a strict zod schema below whose keys are checked against the TypeScript
 * type the code writes, so neither the page nor these schemas can drift from the code unnoticed.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import type { LocalCloudState } from '../../local/cloud.ts';
import type { LibraryRecord, LibraryUpload } from '../../shared/library-record.ts';
import { parseManifest } from '../../shared/manifest.ts';
import type { NameClaim } from '../../shared/name-claim.ts';
import type { PayloadResult } from '../../shared/register.ts';
import type { NotificationRecord, StatusDocument, StatusError } from '../../shared/status.ts';
import type { WebhookMessage } from '../../shared/webhooks.ts';

const text = z.string().check(z.minLength(1));
const isoTime = z.iso.datetime();
const state = z.enum(['PENDING', 'REGISTERED', 'REJECTED', 'CONFLICT', 'FAILED']);
const change = z.enum(['created', 'updated', 'unchanged']);

const StatusErrorSchema = z.strictObject({ code: text, message: text, path: z.optional(text) });

const NotificationSchema = z.strictObject({
  kind: z.optional(z.enum(['webhook', 'dingtalk', 'wecom', 'lark'])),
  endpoint: text,
  webhookId: z.string().check(z.regex(/^msg_[0-9a-f]{32}$/)),
  type: z.string().check(z.regex(/^algolib\.[a-z]+$/)),
  delivered: z.boolean(),
  attempts: z.int().check(z.gte(0)),
  lastStatus: z.optional(z.int()),
  lastError: z.optional(text),
  at: isoTime,
});

const StatusSchema = z
  .strictObject({
    schemaVersion: z.literal(1),
    state,
    waitingFor: z.optional(z.enum(['package', 'manifest'])),
    name: z.optional(text),
    version: z.optional(text),
    algoLibId: z.optional(text),
    created: z.optional(z.boolean()),
    change: z.optional(change),
    previous: z.optional(z.strictObject({ version: text, packageKey: text })),
    package: z.strictObject({
      bucket: text,
      key: text,
      size: z.optional(z.int().check(z.gte(1))),
      crc64: z.optional(z.string().check(z.regex(/^(0|[1-9]\d{0,19})$/))),
      etag: z.optional(text),
    }),
    manifest: z.strictObject({
      key: text,
      etag: z.optional(text),
      sha256: z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/))),
    }),
    errors: z.array(StatusErrorSchema),
    notifications: z.optional(z.array(NotificationSchema)),
    updatedAt: isoTime,
  })
  .check(
    z.refine((doc) => (doc.waitingFor !== undefined) === (doc.state === 'PENDING'), 'waitingFor exactly when PENDING'),
    z.refine((doc) => doc.change === undefined || doc.state === 'REGISTERED', 'change only when REGISTERED'),
    z.refine((doc) => (doc.previous !== undefined) === (doc.change === 'updated'), 'previous exactly when updated'),
    z.refine((doc) => doc.errors.length > 0 === ['REJECTED', 'CONFLICT', 'FAILED'].includes(doc.state), 'errors'),
  );

const UploadSchema = z.strictObject({
  version: text,
  packageKey: text,
  packageEtag: z.optional(text),
  manifestEtag: z.optional(text),
  statusKey: text,
  state,
  change: z.optional(change),
  codes: z.optional(z.array(text)),
  at: isoTime,
});

const LibraryRecordSchema = z.strictObject({
  schemaVersion: z.literal(1),
  name: text,
  algoLibId: z.optional(text),
  version: z.optional(text),
  package: z.optional(z.strictObject({ bucket: text, key: text })),
  manifestSha256: z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/))),
  owner: z.optional(z.strictObject({ bucket: text, folder: z.string().check(z.regex(/\/$/)) })),
  latest: UploadSchema,
  history: z.array(UploadSchema).check(z.maxLength(200)),
  unfinished: z.optional(
    z.array(z.strictObject({ packageKey: text, packageEtag: text, manifestEtag: text })).check(z.maxLength(50)),
  ),
  generation: z.int().check(z.gte(0)),
  updatedAt: isoTime,
});

const WebhookSchema = z.strictObject({ type: z.string(), timestamp: isoTime, data: StatusSchema }).check(
  z.refine((message) => message.type === `algolib.${message.data.state.toLowerCase()}`, 'type from the state'),
  z.refine((message) => message.data.notifications === undefined, 'data carries no notifications'),
);

const ClaimSchema = z.strictObject({
  schemaVersion: z.literal(1),
  name: text,
  owner: text,
  upload: z.strictObject({ bucket: text, key: text, etag: text, manifestKey: text, manifestEtag: text }),
  claimedAt: isoTime,
  expiresAt: isoTime,
});

const ResultsSchema = z.strictObject({
  results: z.array(
    z.strictObject({ key: text, outcome: z.enum(['ignored', 'written', 'unchanged']), state: z.optional(state) }),
  ),
});

const loopback = z.url({ hostname: /^127\.0\.0\.1$/ });
const key = { accessKeyId: text, accessKeySecret: text };
const StateFileSchema = z.strictObject({
  oss: z.strictObject({ endpoint: loopback, region: text, bucket: text, ...key }),
  cityvisual: z.strictObject({ endpoint: loopback, ...key, instanceId: text, regionId: text }),
  fc: z.strictObject({
    endpoint: loopback,
    accountId: text,
    region: text,
    ...key,
    serviceName: text,
    functionName: text,
  }),
  webhook: z.strictObject({ url: loopback, secret: z.string().check(z.regex(/^whsec_/)) }),
  console: z.optional(z.strictObject({ url: loopback })),
});

// The schemas name exactly the fields of the types the code writes (checked by the compiler: a field added to a
// type and not here, or here and not there, makes `npm run typecheck` fail).
type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false;
type Shape<S extends z.ZodMiniType> = z.infer<S>;
/** Compiles only when `A` and `B` have the same keys. */
const sameKeys = <A, B>(same: SameKeys<A, B>) => same;
sameKeys<StatusDocument, Shape<typeof StatusSchema>>(true);
sameKeys<StatusDocument['package'], Shape<typeof StatusSchema>['package']>(true);
sameKeys<StatusDocument['manifest'], Shape<typeof StatusSchema>['manifest']>(true);
sameKeys<StatusError, Shape<typeof StatusErrorSchema>>(true);
sameKeys<NotificationRecord, Shape<typeof NotificationSchema>>(true);
sameKeys<LibraryRecord, Shape<typeof LibraryRecordSchema>>(true);
sameKeys<LibraryUpload, Shape<typeof UploadSchema>>(true);
sameKeys<WebhookMessage, Shape<typeof WebhookSchema>>(true);
sameKeys<NameClaim, Shape<typeof ClaimSchema>>(true);
sameKeys<PayloadResult, Shape<typeof ResultsSchema>['results'][number]>(true);
sameKeys<LocalCloudState, Shape<typeof StateFileSchema>>(true);
sameKeys<LocalCloudState['fc'], Shape<typeof StateFileSchema>['fc']>(true);

const SCHEMAS: Record<string, z.ZodMiniType> = {
  status: StatusSchema,
  'library-record': LibraryRecordSchema,
  webhook: WebhookSchema,
  claim: ClaimSchema,
  results: ResultsSchema,
  'state-file': StateFileSchema,
};

const page = readFileSync(new URL('../../docs/contracts.md', import.meta.url), 'utf8');

/** Every ```json block of the page with the contract named in the comment on the line before its fence. */
const examples = [...page.matchAll(/^```json\n([\s\S]*?)^```$/gm)].map((match) => {
  const before = page.slice(0, match.index).trimEnd().split('\n').at(-1) ?? '';
  const line = page.slice(0, match.index).split('\n').length;
  return { line, kind: /^<!-- contract: ([a-z-]+) -->$/.exec(before)?.[1], json: match[1] ?? '' };
});

describe('docs/contracts.md', () => {
  it('names the contract of every JSON example', () => {
    // Arrange
    const unnamed = examples.filter((example) => example.kind === undefined).map((example) => example.line);

    // Assert
    expect(unnamed).toEqual([]);
    expect(new Set(examples.map((example) => example.kind))).toEqual(new Set(['manifest', ...Object.keys(SCHEMAS)]));
  });

  it.each(examples.filter((example) => example.kind === 'manifest'))(
    'has a manifest that parseManifest accepts (line $line)',
    ({ json }) => {
      // Act
      const result = parseManifest(Buffer.from(json));

      // Assert
      expect(result).toMatchObject({ ok: true });
    },
  );

  it.each(examples.filter((example) => example.kind !== 'manifest'))(
    'has a $kind example that its schema accepts (line $line)',
    ({ kind, json }) => {
      // Arrange
      const schema = SCHEMAS[kind ?? ''];

      // Act
      const result = schema?.safeParse(JSON.parse(json));

      // Assert
      expect(result?.error?.issues ?? []).toEqual([]);
      expect(result?.success).toBe(true);
    },
  );
});

describe('the contract schemas', () => {
  it('refuse what the code never writes, so the examples are checked for real', () => {
    // Arrange
    const registered = {
      schemaVersion: 1,
      state: 'REGISTERED',
      package: { bucket: 'b', key: 'library/a/a-1.0.0.tar.gz' },
      manifest: { key: 'library/a/a-1.0.0.manifest.json' },
      errors: [],
      updatedAt: '2026-11-29T12:00:00.000Z',
    };

    // Act
    const results = [
      StatusSchema.safeParse(registered),
      StatusSchema.safeParse({ ...registered, state: 'PENDING' }),
      StatusSchema.safeParse({ ...registered, change: 'updated' }),
      StatusSchema.safeParse({ ...registered, extra: true }),
      WebhookSchema.safeParse({ type: 'algolib.rejected', timestamp: registered.updatedAt, data: registered }),
    ].map((result) => result.success);

    // Assert
    expect(results).toEqual([true, false, false, false, false]);
  });
});
