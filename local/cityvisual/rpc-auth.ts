/**
 * Authenticates one RPC request the way Alibaba's POP gateway does: common parameters, Timestamp window,
 * AccessKey (and STS token), HMAC-SHA1 signature, then SignatureNonce replay protection.
 */
import { timingSafeEqual } from 'node:crypto';
import { RpcError, required } from './rpc-error';
import { signRpc } from './rpc-signature';

export type RpcCredential = { accessKeyId: string; accessKeySecret: string; securityToken?: string };

export type RpcAuthenticator = {
  /** Throws an `RpcError` unless the request is signed by a known credential, on time, with a fresh nonce. */
  authenticate(method: 'GET' | 'POST', params: Record<string, string>): void;
  addCredential(credential: RpcCredential): void;
};

/** The gateway's tolerance between the request Timestamp and its own clock, both ways. */
export const TIMESTAMP_WINDOW_MS = 15 * 60_000;

/** pop-core sends `YYYY-MM-DDThh:mm:ssZ`; fractional seconds are tolerated since other SDKs send them. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

export const createRpcAuthenticator = (options: {
  credentials: RpcCredential[];
  now?: () => number;
  /** Bound on remembered nonces; past it the oldest are forgotten first. */
  maxNonces?: number;
}): RpcAuthenticator => {
  const now = options.now ?? Date.now;
  const maxNonces = options.maxNonces ?? 100_000;
  const credentials = new Map<string, RpcCredential>();
  // Insertion-ordered: nonce key → time after which a replay fails the Timestamp check anyway.
  const nonces = new Map<string, number>();

  const addCredential = (credential: RpcCredential) => {
    credentials.set(credential.accessKeyId, { ...credential });
  };
  for (const credential of options.credentials) addCredential(credential);

  const checkTimestamp = (timestamp: string) => {
    const at = TIMESTAMP.test(timestamp) ? Date.parse(timestamp) : Number.NaN;
    if (Number.isNaN(at)) {
      throw new RpcError(400, 'InvalidTimeStamp.Format', 'Specified time stamp or date value is not well formatted.');
    }
    if (Math.abs(now() - at) > TIMESTAMP_WINDOW_MS) {
      throw new RpcError(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
    }
    return at;
  };

  const checkSignature = (method: 'GET' | 'POST', params: Record<string, string>, secret: string) => {
    const expected = Buffer.from(signRpc(method, params, secret));
    const given = Buffer.from(required(params, 'Signature'));
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new RpcError(400, 'SignatureDoesNotMatch', 'Specified signature is not matched with our calculation.');
    }
  };

  /** Remembers a nonce until its request's Timestamp leaves the window; later replays fail the Timestamp check. */
  const useNonce = (key: string, timestamp: number) => {
    const at = now();
    const seenUntil = nonces.get(key);
    if (seenUntil !== undefined && seenUntil >= at) {
      throw new RpcError(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
    }
    for (const [oldKey, until] of nonces) {
      if (until >= at && nonces.size < maxNonces) break;
      nonces.delete(oldKey);
    }
    nonces.delete(key); // re-insert at the end so the sweep above stays roughly oldest-first
    nonces.set(key, timestamp + TIMESTAMP_WINDOW_MS);
  };

  return {
    addCredential,
    authenticate(method, params) {
      const accessKeyId = required(params, 'AccessKeyId');
      required(params, 'Signature');
      if (required(params, 'SignatureMethod') !== 'HMAC-SHA1') {
        throw new RpcError(
          400,
          'InvalidSignatureMethod',
          'Specified signature method is not supported; use HMAC-SHA1.',
        );
      }
      if (required(params, 'SignatureVersion') !== '1.0') {
        throw new RpcError(400, 'InvalidSignatureVersion', 'Specified signature version is not supported; use 1.0.');
      }
      const nonce = required(params, 'SignatureNonce');
      const timestamp = checkTimestamp(required(params, 'Timestamp'));

      const credential = credentials.get(accessKeyId);
      if (!credential) {
        throw new RpcError(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
      }
      // One code for a missing and a wrong token: either way this AccessKeyId cannot be used without its own token.
      if (credential.securityToken !== undefined && params.SecurityToken !== credential.securityToken) {
        throw new RpcError(
          400,
          'InvalidSecurityToken.Mismatch',
          'Specified SecurityToken does not match the AccessKeyId.',
        );
      }
      checkSignature(method, params, credential.accessKeySecret);
      useNonce(`${accessKeyId}\n${nonce}`, timestamp);
    },
  };
};
