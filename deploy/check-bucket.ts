/**
 * The check of `algolib deploy` that needs OSS: the bucket the function writes its statuses and name claims to must
 * never have had versioning enabled. The PutObject reference
 * (https://www.alibabacloud.com/help/en/oss/developer-reference/putobject) says of `x-oss-forbid-overwrite`: "When
 * versioning is enabled or suspended for the bucket …, the x-oss-forbid-overwrite header does not take effect", so
 * in such a bucket every claim would "succeed" and the function refuses to run (`STATUS_BUCKET_VERSIONED`).
 */
import { RemoteError } from '../shared/errors.ts';
import type { VersioningStatus } from '../shared/object-store.ts';
import type { Finding } from './check-template.ts';

const PATH = 'Parameters.BucketName';

/**
 * Findings for the status bucket: none when its versioning was never enabled; an error when it is Enabled or
 * Suspended, or when OSS would not say (no such bucket, no permission: the deployer policy grants
 * `oss:GetBucketVersioning`).
 *
 * @example
 * ```ts
 * const findings = await checkStatusBucket('my-algolibs', () => store.versioning());
 * ```
 */
export const checkStatusBucket = async (
  bucket: string,
  versioning: () => Promise<VersioningStatus>,
): Promise<Finding[]> => {
  let status: VersioningStatus;
  try {
    status = await versioning();
  } catch (error) {
    if (!(error instanceof RemoteError)) throw error;
    return [
      finding(
        `Expected to read the versioning of the status bucket ${bucket} (GetBucketVersioning), got ${error.code}: ${error.message}`,
      ),
    ];
  }
  if (status === undefined) return [];
  return [
    finding(
      `Expected the status bucket ${bucket} never to have had versioning enabled, got ${status}: OSS ignores x-oss-forbid-overwrite in a versioned bucket, so the function could not claim a name and would answer every upload FAILED (STATUS_BUCKET_VERSIONED). Versioning cannot be turned off once enabled; deploy with another BucketName`,
    ),
  ];
};

const finding = (message: string): Finding => ({ level: 'error', rule: 'status-bucket', path: PATH, message });
