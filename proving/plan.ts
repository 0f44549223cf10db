/**
 * The soak's seeded plan: which pairs to upload, with which bytes, in which order, how often each event is delivered,
 * and what each pair must end as. Everything here is a pure function of the seed and the flags.
 */
import { createHash } from 'node:crypto';
import { createRandom } from '../local/faults.ts';
import { SAMPLE_OBJECTS } from '../samples/manifest-objects.ts';
import { crc64 } from '../shared/crc64.ts';
import { statusKeyOf } from '../shared/keys.ts';
import { MANIFEST_MAX_BYTES } from '../shared/manifest.ts';
import type { RegistrationState } from '../shared/status.ts';

/** What a pair is made of; the name says what the pipeline must answer. */
export type PairKind =
  | 'good'
  /** A valid manifest behind a UTF-8 byte order mark. */
  | 'good-bom'
  /** Only `package.sha256`: the function streams the package. */
  | 'good-sha256'
  /** The package goes up as a multipart upload (event `CompleteMultipartUpload`). */
  | 'good-multipart'
  /** Spaces, `+`, `%` and CJK characters in the keys. */
  | 'good-odd-key'
  /** One of two packages from two folders that claim the same name: exactly one ends REGISTERED, the other CONFLICT. */
  | 'conflict'
  /**
   * One release of a stream of versions of one name from one folder, uploaded together in a shuffled order: the
   * library ends at the highest version, each release ends REGISTERED (created or updated) or VERSION_DOWNGRADE.
   */
  | 'version'
  /** CityVisual refuses it (a capability it does not offer): REJECTED with CityVisual's code. */
  | 'refused'
  | 'bad-schema'
  | 'bad-json'
  | 'bad-utf8'
  | 'bad-too-large'
  | 'bad-proto'
  | 'bad-duplicate-key'
  /** 20,000 unknown keys: the rejection must stay small enough to read back and to send. */
  | 'bad-many-errors'
  | 'bad-size'
  | 'bad-crc64'
  | 'bad-sha256';

export type Expectation = {
  /** Acceptable final states (a conflict pair may end either way; its group decides). */
  states: readonly RegistrationState[];
  /** For REJECTED: the first error's code and path (`null`: the error has no path). */
  code?: string;
  path?: string | null;
};

export type PlannedPair = {
  index: number;
  kind: PairKind;
  /** Pairs of one group are uploaded at the same time (the two halves of a name conflict). */
  group: number;
  name: string;
  packageKey: string;
  manifestKey: string;
  statusKey: string;
  packageBytes: Buffer;
  manifestBytes: Buffer;
  order: 'package-first' | 'manifest-first';
  multipart: boolean;
  /** How many times each half's event is delivered in all (1 = only the upload's own notification). */
  deliveries: { package: number; manifest: number };
  /** Delay of each extra delivery after the upload, ms (0 = at once, concurrently with the first). */
  redeliveryDelays: { package: number[]; manifest: number[] };
  expect: Expectation;
};

export type PlanOptions = { pairs: number; dup: number; seed: number; packagePrefix?: string };

/** OSS's smallest part but the last: multipart packages are one full part and a bit. */
export const MULTIPART_PART_SIZE = 100 * 1024;
/** Extra deliveries come at once or within this window, so some race the first one and some find it finished. */
const REDELIVERY_WINDOW_MS = 3_000;

/** Shares of the pairs (the rest are `good`); every kind is present once the run has enough pairs. */
const SHARES: Array<[PairKind, number]> = [
  ['conflict', 0.08],
  ['version', 0.16],
  ['refused', 0.02],
  ['bad-schema', 0.02],
  ['bad-json', 0.01],
  ['bad-utf8', 0.01],
  ['bad-too-large', 0.005],
  ['bad-proto', 0.01],
  ['bad-duplicate-key', 0.01],
  ['bad-many-errors', 0.005],
  ['bad-size', 0.01],
  ['bad-crc64', 0.01],
  ['bad-sha256', 0.01],
  ['good-bom', 0.03],
  ['good-sha256', 0.08],
  ['good-multipart', 0.01],
  ['good-odd-key', 0.03],
];

const EXPECTATIONS: Record<PairKind, Expectation> = {
  good: { states: ['REGISTERED'] },
  'good-bom': { states: ['REGISTERED'] },
  'good-sha256': { states: ['REGISTERED'] },
  'good-multipart': { states: ['REGISTERED'] },
  'good-odd-key': { states: ['REGISTERED'] },
  conflict: { states: ['REGISTERED', 'CONFLICT'] },
  version: { states: ['REGISTERED', 'CONFLICT'] },
  refused: { states: ['REJECTED'], code: 'InvalidCapabilities.ValueNotSupported', path: null },
  'bad-schema': { states: ['REJECTED'], code: 'MANIFEST_INVALID', path: 'capacity' },
  'bad-json': { states: ['REJECTED'], code: 'MANIFEST_INVALID', path: null },
  'bad-utf8': { states: ['REJECTED'], code: 'MANIFEST_INVALID', path: null },
  'bad-too-large': { states: ['REJECTED'], code: 'MANIFEST_TOO_LARGE', path: null },
  'bad-proto': { states: ['REJECTED'], code: 'MANIFEST_INVALID', path: '__proto__' },
  'bad-duplicate-key': { states: ['REJECTED'], code: 'MANIFEST_INVALID', path: 'capacity' },
  'bad-many-errors': { states: ['REJECTED'], code: 'MANIFEST_INVALID', path: 'k0' },
  'bad-size': { states: ['REJECTED'], code: 'PACKAGE_SIZE_MISMATCH', path: 'package.size' },
  'bad-crc64': { states: ['REJECTED'], code: 'PACKAGE_CHECKSUM_MISMATCH', path: 'package.crc64' },
  'bad-sha256': { states: ['REJECTED'], code: 'PACKAGE_CHECKSUM_MISMATCH', path: 'package.sha256' },
};

/** Kinds whose manifest must never reach CreateAlgoLib. */
export const isInvalidManifest = (kind: PairKind): boolean => kind.startsWith('bad-');

/** Pairs per group: the two packages of a conflict, the releases of a version stream. */
const GROUP_SIZE: Partial<Record<PairKind, number>> = { conflict: 2, version: 4 };

/** How many pairs of each kind: the shares rounded, at least one group of each when there is room, whole groups. */
const kindCounts = (pairs: number): Map<PairKind, number> => {
  const counts = new Map<PairKind, number>();
  let used = 0;
  for (const [kind, share] of SHARES) {
    const size = GROUP_SIZE[kind] ?? 1;
    let count = Math.round(pairs * share);
    if (pairs >= 4 * SHARES.length) count = Math.max(count, size);
    count -= count % size;
    count = Math.min(count, pairs - used - ((pairs - used) % size));
    counts.set(kind, count);
    used += count;
  }
  counts.set('good', pairs - used);
  return counts;
};

/** A name no other name contains (fixed width), so DescribeAlgoLibs' substring filter never confuses two of them. */
const nameOf = (seed: number, index: number) => `soak${seed.toString(36)}-${String(index).padStart(6, '0')}`;

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The manifest text of a pair, valid or broken the way its kind says. */
const manifestOf = (kind: PairKind, name: string, version: string, pkg: Buffer): Buffer => {
  const integrity: Record<string, unknown> =
    kind === 'good-sha256'
      ? { size: pkg.length, sha256: sha256(pkg) }
      : kind === 'bad-sha256'
        ? { size: pkg.length, sha256: sha256(Buffer.concat([pkg, Buffer.from('tampered')])) }
        : kind === 'bad-crc64'
          ? { size: pkg.length, crc64: ((BigInt(crc64(pkg)) + 1n) % 2n ** 64n).toString() }
          : kind === 'bad-size'
            ? { size: pkg.length + 1, crc64: crc64(pkg) }
            : { size: pkg.length, crc64: crc64(pkg) };
  const manifest = {
    schemaVersion: 1,
    name,
    version,
    capabilities: kind === 'refused' ? ['TELEPATHY'] : ['FACE', 'PERSON'],
    capacity: kind === 'bad-schema' ? 0 : 30,
    objects: SAMPLE_OBJECTS,
    package: integrity,
  };
  const json = JSON.stringify(manifest);
  switch (kind) {
    case 'good-bom':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json)]);
    case 'bad-json':
      return Buffer.from(json.slice(0, -7));
    case 'bad-utf8':
      // A lone continuation byte inside a string: JSON.parse would take it, a strict UTF-8 decoder does not.
      return Buffer.concat([Buffer.from(json.slice(0, 20)), Buffer.from([0x80, 0xff]), Buffer.from(json.slice(20))]);
    case 'bad-too-large':
      return Buffer.from(`${json.slice(0, -1)},"$schema":"${'x'.repeat(MANIFEST_MAX_BYTES)}"}`);
    case 'bad-proto':
      return Buffer.from(`{"__proto__":{"polluted":true},${json.slice(1)}`);
    case 'bad-many-errors':
      return Buffer.from(`${json.slice(0, -1)}${Array.from({ length: 20_000 }, (_, i) => `,"k${i}":0`).join('')}}`);
    case 'bad-duplicate-key':
      // Another parser might keep the first `capacity`; the manifest is ambiguous and must be refused.
      return Buffer.from(`${json.slice(0, -1)},"capacity":40}`);
    default:
      return Buffer.from(json);
  }
};

const kind0 = (group: PairKind[]): PairKind | undefined => group[0];

/** Shuffles in place with the plan's PRNG (Fisher–Yates). */
const shuffle = <T>(items: T[], random: () => number): T[] => {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
};

/**
 * The pairs of one soak run.
 *
 * @example
 * ```ts
 * const pairs = planPairs({ pairs: 300, dup: 3, seed: 42 });
 * pairs.filter((pair) => pair.kind === 'conflict').length; // 24: twelve names, two packages each
 * ```
 */
export const planPairs = (options: PlanOptions): PlannedPair[] => {
  const random = createRandom(options.seed ^ 0x2545f491);
  const prefix = options.packagePrefix ?? 'library/';
  const kinds: PairKind[] = [];
  for (const [kind, count] of kindCounts(options.pairs)) for (let i = 0; i < count; i += 1) kinds.push(kind);
  // The pairs of a group stay together (one name each); the groups, not the pairs, are shuffled.
  const groups: PairKind[][] = [];
  for (let i = 0; i < kinds.length; ) {
    const kind = kinds[i] as PairKind;
    const size = GROUP_SIZE[kind] ?? 1;
    groups.push(Array.from({ length: size }, () => kind));
    i += size;
  }
  shuffle(groups, random);
  const deliveries = () => 1 + Math.floor(random() * options.dup);
  const delays = (count: number) =>
    Array.from({ length: count - 1 }, () => (random() < 0.5 ? 0 : Math.floor(random() * REDELIVERY_WINDOW_MS)));

  const pairs: PlannedPair[] = [];
  groups.forEach((group, groupIndex) => {
    const name = nameOf(options.seed, pairs.length);
    // A version stream's releases, in semver order 1.0.0 < 1.1.0-rc.1 < 1.1.0 < 2.0.0, uploaded in a shuffled order.
    const versions = kind0(group) === 'version' ? shuffle(['1.0.0', '1.1.0-rc.1', '1.1.0', '2.0.0'], random) : [];
    group.forEach((kind, member) => {
      const index = pairs.length;
      const version = versions[member] ?? `1.${member}.0`;
      // The two packages of a conflict come from two folders: only the first to claim the name may have it.
      const folder =
        kind === 'good-odd-key' ? `人脸 检测+%25/${name}` : kind === 'conflict' && member === 1 ? `${name}-b` : name;
      const stem = `${prefix}${folder}/${name}-${version}`;
      const size = kind === 'good-multipart' ? MULTIPART_PART_SIZE + 1 + Math.floor(random() * 50_000) : 16;
      const packageBytes = Buffer.alloc(size + Math.floor(random() * 2_000));
      for (let i = 0; i < packageBytes.length; i += 1) packageBytes[i] = Math.floor(random() * 256);
      const packageCount = deliveries();
      const manifestCount = deliveries();
      pairs.push({
        index,
        kind,
        group: groupIndex,
        name,
        packageKey: `${stem}.tar.gz`,
        manifestKey: `${stem}.manifest.json`,
        statusKey: statusKeyOf(`${stem}.tar.gz`, 'status/'),
        packageBytes,
        manifestBytes: manifestOf(kind, name, version, packageBytes),
        order: random() < 0.5 ? 'package-first' : 'manifest-first',
        multipart: kind === 'good-multipart',
        deliveries: { package: packageCount, manifest: manifestCount },
        redeliveryDelays: { package: delays(packageCount), manifest: delays(manifestCount) },
        expect: EXPECTATIONS[kind],
      });
    });
  });
  return pairs;
};
