/** The AccessKeys the emulator knows, and what each one may do. */

export type OssCredential = {
  accessKeyId: string;
  accessKeySecret: string;
  /** STS triplet when set: requests must then carry this exact `x-oss-security-token`. */
  securityToken?: string;
  /**
   * What this key may do; default: everything on every bucket. Keys are matched by prefix; '' = all keys.
   * `bucketActions` lists the bucket-level operations allowed (e.g. `GetBucketVersioning`, as RAM's
   * `oss:GetBucketVersioning` on the bucket); with `allow` given and no list, none is.
   */
  allow?: { buckets?: string[]; read?: string[]; write?: string[]; bucketActions?: string[] };
};

export type Access = 'read' | 'write';

export type CredentialRegistry = {
  find(accessKeyId: string): OssCredential | undefined;
  /** Adds a key, replacing any key with the same id (an STS refresh keeps the id's latest triplet). */
  add(credential: OssCredential): void;
};

export const createCredentialRegistry = (initial: OssCredential[]): CredentialRegistry => {
  const byId = new Map(initial.map((credential) => [credential.accessKeyId, credential]));
  return {
    find: (accessKeyId) => byId.get(accessKeyId),
    add: (credential) => {
      byId.set(credential.accessKeyId, credential);
    },
  };
};

const mayUseBucket = (credential: OssCredential, bucket: string) => credential.allow?.buckets?.includes(bucket) ?? true;

/** Could `credential` read at least part of `bucket`? */
export const mayReadBucket = (credential: OssCredential, bucket: string) =>
  mayUseBucket(credential, bucket) && (credential.allow?.read ?? ['']).length > 0;

/**
 * May `credential` read or write `key` (for listings: the listed prefix) in `bucket`?
 * Like a RAM policy on `acs:oss:*:*:bucket/prefix*`: a listing is allowed when its prefix lies under a readable prefix.
 */
export const isAllowed = (credential: OssCredential, bucket: string, access: Access, key: string) =>
  mayUseBucket(credential, bucket) && (credential.allow?.[access] ?? ['']).some((prefix) => key.startsWith(prefix));

/** May `credential` call the bucket-level operation `action` (`GetBucketVersioning`, …) on `bucket`? */
export const mayCallBucketAction = (credential: OssCredential, bucket: string, action: string) =>
  mayUseBucket(credential, bucket) &&
  (credential.allow === undefined || (credential.allow.bucketActions ?? []).includes(action));
