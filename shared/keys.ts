/**
 * Object key conventions (docs/contracts.md "Object keys"): a package `<prefix><path>/<stem>.tar.gz`, its manifest
 * `<stem>.manifest.json` beside it, and everything the pipeline writes under the status prefix.
 */

export const PACKAGE_SUFFIX = '.tar.gz';
export const MANIFEST_SUFFIX = '.manifest.json';

export type PairKeys = { packageKey: string; manifestKey: string; half: 'package' | 'manifest' };

/**
 * The pair an object key belongs to, or `undefined` when the key is neither half of a pair under `packagePrefix`.
 *
 * @example
 * ```ts
 * pairOf('library/face/face-1.2.0.manifest.json', 'library/');
 * // { packageKey: 'library/face/face-1.2.0.tar.gz', manifestKey: 'library/face/face-1.2.0.manifest.json', half: 'manifest' }
 * ```
 */
export const pairOf = (key: string, packagePrefix: string): PairKeys | undefined => {
  if (!key.startsWith(packagePrefix)) return undefined;
  for (const [suffix, half] of [
    [PACKAGE_SUFFIX, 'package'],
    [MANIFEST_SUFFIX, 'manifest'],
  ] as const) {
    if (!key.endsWith(suffix)) continue;
    const base = key.slice(0, -suffix.length);
    // A bare suffix ("library/.tar.gz") names no package.
    if (base.length <= packagePrefix.length || base.endsWith('/')) return undefined;
    return { packageKey: base + PACKAGE_SUFFIX, manifestKey: base + MANIFEST_SUFFIX, half };
  }
  return undefined;
};

/**
 * The status object of a package: `library/face/face-1.2.0.tar.gz` → `status/library/face/face-1.2.0.json`.
 *
 * @example
 * ```ts
 * statusKeyOf('library/face/face-1.2.0.tar.gz', 'status/'); // 'status/library/face/face-1.2.0.json'
 * ```
 */
export const statusKeyOf = (packageKey: string, statusPrefix: string): string =>
  `${statusPrefix}${packageKey.endsWith(PACKAGE_SUFFIX) ? packageKey.slice(0, -PACKAGE_SUFFIX.length) : packageKey}.json`;

/**
 * Generation `generation` of the claim on a library name. Claims are written once each (create-if-absent); a new
 * generation replaces an expired or released one, so taking over is as atomic as claiming.
 *
 * @example
 * ```ts
 * claimKeyOf('face', 0, 'status/'); // 'status/.claims/face/000000.json'
 * ```
 */
export const claimKeyOf = (name: string, generation: number, statusPrefix: string): string =>
  `${claimsPrefixOf(statusPrefix)}${name}/${String(generation).padStart(6, '0')}.json`;

/**
 * The folder of every name claim; no status document may fall in it.
 *
 * @example
 * ```ts
 * claimsPrefixOf('status/'); // 'status/.claims/'
 * ```
 */
export const claimsPrefixOf = (statusPrefix: string): string => `${statusPrefix}.claims/`;
