/**
 * Canary secrets and the scan for them: every credential of the local cloud carries one recognisable marker, and
 * every text the run produces (log lines, status documents, claims, webhook bodies, error messages) is searched for
 * it. A hit anywhere is a leak.
 */
import type { LocalCloudCredentials } from '../local/cloud.ts';

/** In every canary secret and in nothing else the run writes; never in an access key id (ids are not secrets). */
export const CANARY_MARKER = 'CaNaRy7';

export type LeakHit = { where: string; secret: string; excerpt: string };

export type LeakScanner = {
  /** Searches `text`, found at `where` (e.g. `log`, `status/library/…json`), for any canary. */
  scan(where: string, text: string): void;
  /** Every hit, with the secret's label (`partial` when only the marker matched) and a masked excerpt. */
  hits(): LeakHit[];
  /** How many texts and characters were searched: a scan that saw nothing proves nothing. */
  scanned(): { texts: number; chars: number; byPlace: Record<string, number> };
};

const MAX_HITS_KEPT = 20;

/**
 * A scanner for the marker; `labels()` names the secrets handed out so far (STS triplets appear as instances start).
 *
 * @example
 * ```ts
 * const scanner = createLeakScanner(() => canaries.labelled());
 * scanner.scan('log', line);
 * scanner.hits(); // []
 * ```
 */
export const createLeakScanner = (labels: () => ReadonlyMap<string, string>): LeakScanner => {
  const hits: LeakHit[] = [];
  let total = 0;
  let texts = 0;
  let chars = 0;
  const byPlace: Record<string, number> = {};
  return {
    scan(where, text) {
      texts += 1;
      chars += text.length;
      const place = where.includes('/') ? where.slice(0, where.indexOf('/')) : where;
      byPlace[place] = (byPlace[place] ?? 0) + 1;
      const at = text.indexOf(CANARY_MARKER);
      if (at < 0) return;
      total += 1;
      if (hits.length >= MAX_HITS_KEPT) return;
      let secret = 'partial';
      for (const [value, label] of labels()) if (text.includes(value)) secret = label;
      const excerpt = text.slice(Math.max(0, at - 60), at + 80).replaceAll(CANARY_MARKER, '<CANARY>');
      hits.push({ where, secret, excerpt });
    },
    hits: () =>
      total > hits.length ? [...hits, { where: '…', secret: `${total - hits.length} more`, excerpt: '' }] : [...hits],
    scanned: () => ({ texts, chars, byPlace: { ...byPlace } }),
  };
};

/** Base64 characters from a PRNG, so canaries are reproducible from the seed. */
const base64Chars = (random: () => number, length: number) => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
};

export type Canaries = {
  credentials: LocalCloudCredentials;
  /** Secret value → label, including every STS triplet issued so far. */
  labelled(): ReadonlyMap<string, string>;
};

/**
 * Canary credentials for every secret the local cloud hands out: the publisher's OSS key, the CityVisual read key
 * given to CreateAlgoLib, the CityVisual API key, the FC API key, each instance's STS secret and token, and the
 * webhook secret.
 *
 * @example
 * ```ts
 * const canaries = createCanaries(createRandom(seed));
 * const cloud = await startLocalCloud({ credentials: canaries.credentials, stateFile: false });
 * ```
 */
export const createCanaries = (random: () => number): Canaries => {
  const labels = new Map<string, string>();
  const secret = (label: string) => {
    const value = `${CANARY_MARKER}${label.replace(/[^A-Za-z]/g, '')}${base64Chars(random, 16)}`;
    labels.set(value, label);
    return value;
  };
  const key = (idPrefix: string, label: string) => ({
    accessKeyId: `${idPrefix}${base64Chars(random, 12)}`,
    accessKeySecret: secret(label),
  });
  let issued = 0;
  // whsec_ + base64: the marker and the filler are base64 characters; 4·n characters decode without padding.
  const webhookBody = `${CANARY_MARKER}Webhook${base64Chars(random, 32)}`;
  const webhookSecret = `whsec_${webhookBody.padEnd(Math.ceil(webhookBody.length / 4) * 4, 'A')}`;
  labels.set(webhookSecret.slice('whsec_'.length), 'webhook secret');
  return {
    credentials: {
      publisher: key('LTAIsoakpub', 'OSS publisher secret'),
      cityVisualReader: key('LTAIsoakcvr', 'CityVisual OSS read secret'),
      cityVisualApi: key('LTAIsoakcv', 'CityVisual API secret'),
      fcApi: key('LTAIsoakfc', 'FC API secret'),
      sts: () => {
        issued += 1;
        return {
          accessKeyId: `STS.soak${issued}${base64Chars(random, 8)}`,
          accessKeySecret: secret(`STS secret ${issued}`),
          securityToken: secret(`STS token ${issued}`),
        };
      },
      webhookSecret,
    },
    labelled: () => labels,
  };
};
