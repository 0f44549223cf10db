/**
 * Authenticates and authorizes one RPC request the way Alibaba's POP gateway does: signature V1 (HMAC-SHA1 in the
 * parameters) or V3 (`ACS3-HMAC-SHA256` in the Authorization header), the time window, the AccessKey (and STS token),
 * the SignatureNonce, then the caller's RAM permission for the Action.
 *
 * Every code it answers is one of the gateway's public codes (API error center, product "Public",
 * https://error-center.alibabacloud.com/status/product/Public; https://help.aliyun.com/document_detail/53438.html):
 * Missing{Name}, InvalidParameter, InvalidSignatureMethod, IncompleteSignature, SignatureDoesNotMatch,
 * InvalidTimeStamp.Format/.Expired, SignatureNonceUsed, InvalidAccessKeyId.NotFound, MissingSecurityToken,
 * InvalidSecurityToken.MismatchWithAccessKey; and Forbidden.RAM (403) from the common error tables
 * (https://help.aliyun.com/document_detail/51132.html).
 */
import { timingSafeEqual } from 'node:crypto';
import { ACS3_ALGORITHM, acs3StringToSign, parseAcs3Authorization, signAcs3 } from './acs3-signature.ts';
import { RpcError, required } from './rpc-error.ts';
import { rpcStringToSign, signRpc } from './rpc-signature.ts';

export type RpcCredential = {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  /**
   * The RAM actions this key may call (`cityvisual:CreateAlgoLib`, `cityvisual:Describe*`, `cityvisual:*`, `*`), as
   * the Allow statements of its policy; absent: every action (an account's own key).
   */
  actions?: readonly string[];
};

/** One request as the gateway sees it. */
export type RpcRequest = {
  method: 'GET' | 'POST';
  /** The path as sent (`/` for RPC). */
  path: string;
  /** The decoded query string alone (V3 signs it apart from the body). */
  query: Record<string, string>;
  /** Query and form body merged: the API parameters (V1 signs all of them). */
  params: Record<string, string>;
  headers: Record<string, string | undefined>;
  body: Buffer;
};

export type RpcAuthenticator = {
  /** The credential that signed the request; throws an `RpcError` unless it is signed, on time, with a fresh nonce. */
  authenticate(request: RpcRequest): RpcCredential;
  /** Throws 403 `Forbidden.RAM` unless the credential may call `cityvisual:<action>`. */
  authorize(credential: RpcCredential, action: string): void;
  addCredential(credential: RpcCredential): void;
};

/** The gateway's tolerance between the request Timestamp and its own clock, both ways. */
export const TIMESTAMP_WINDOW_MS = 15 * 60_000;

/** pop-core sends `YYYY-MM-DDThh:mm:ssZ`; fractional seconds are tolerated since other SDKs send them. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** The V3 common headers that must be signed when present (the V3 reference: "all common request headers"). */
const V3_SIGNED = [
  'host',
  'x-acs-action',
  'x-acs-version',
  'x-acs-date',
  'x-acs-signature-nonce',
  'x-acs-content-sha256',
];

/**
 * The gateway's message, ending with the string it signed: aliyun-python-sdk-core (`aliyunsdkcore/client.py`) compares
 * `message.split(':')[1]` with its own string to sign, and alibaba-cloud-sdk-go (`sdk/errors/
 * signature_does_not_match_wrapper.go`) strips exactly this prefix, to tell a wrong secret from an SDK bug.
 */
export const SIGNATURE_MISMATCH_MESSAGE =
  'Specified signature is not matched with our calculation. server string to sign is:';

/** RAM's wildcard match of one Action pattern (`*` for any run of characters, case-insensitive as RAM's are). */
const allows = (pattern: string, action: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  ).test(action);

const sameText = (expected: string, given: string) => {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
};

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

  const credentialOf = (accessKeyId: string, securityToken: string | undefined) => {
    const credential = credentials.get(accessKeyId);
    if (!credential) {
      throw new RpcError(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
    }
    if (credential.securityToken !== undefined && securityToken === undefined) {
      throw new RpcError(400, 'MissingSecurityToken', 'SecurityToken is mandatory for this action.');
    }
    if (credential.securityToken !== undefined && securityToken !== credential.securityToken) {
      throw new RpcError(
        400,
        'InvalidSecurityToken.MismatchWithAccessKey',
        'Specified SecurityToken mismatch with the AccessKey.',
      );
    }
    return credential;
  };

  const checkSignature = (expected: string, given: string, stringToSign: string) => {
    if (!sameText(expected, given)) {
      throw new RpcError(400, 'SignatureDoesNotMatch', `${SIGNATURE_MISMATCH_MESSAGE}${stringToSign}`);
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

  /** Signature V1: common parameters, HMAC-SHA1 over the canonical query of every parameter. */
  const authenticateV1 = ({ method, params }: RpcRequest) => {
    const accessKeyId = required(params, 'AccessKeyId');
    const signature = required(params, 'Signature');
    if (required(params, 'SignatureMethod') !== 'HMAC-SHA1') {
      throw new RpcError(400, 'InvalidSignatureMethod', 'Specified signature method is not supported.');
    }
    if (required(params, 'SignatureVersion') !== '1.0') {
      throw new RpcError(400, 'InvalidParameter', 'The specified parameter "SignatureVersion" is not valid.');
    }
    const nonce = required(params, 'SignatureNonce');
    const timestamp = checkTimestamp(required(params, 'Timestamp'));
    const credential = credentialOf(accessKeyId, params.SecurityToken || undefined);
    checkSignature(signRpc(method, params, credential.accessKeySecret), signature, rpcStringToSign(method, params));
    useNonce(`${accessKeyId}\n${nonce}`, timestamp);
    return credential;
  };

  /** Signature V3: `Authorization: ACS3-HMAC-SHA256 …` over the canonical request, x-acs-* headers for the rest. */
  const authenticateV3 = (request: RpcRequest, header: string) => {
    const { algorithm, authorization } = parseAcs3Authorization(header);
    if (algorithm !== ACS3_ALGORITHM) {
      throw new RpcError(400, 'InvalidSignatureMethod', 'Specified signature method is not supported.');
    }
    const incomplete = () =>
      new RpcError(400, 'IncompleteSignature', 'The request signature does not conform to Aliyun standards.');
    if (!authorization) throw incomplete();
    const signed = new Set(authorization.signedHeaders.map((name) => name.toLowerCase()));
    const unsigned = [...V3_SIGNED, 'x-acs-security-token', 'x-acs-accesskey-id'].filter(
      (name) => request.headers[name] !== undefined && !signed.has(name),
    );
    const nonce = request.headers['x-acs-signature-nonce'];
    const date = request.headers['x-acs-date'];
    if (unsigned.length > 0 || !nonce || !date) throw incomplete();
    const timestamp = checkTimestamp(date);
    const credential = credentialOf(authorization.accessKeyId, request.headers['x-acs-security-token']);
    const stringToSign = acs3StringToSign(request, authorization.signedHeaders);
    checkSignature(signAcs3(stringToSign, credential.accessKeySecret), authorization.signature, stringToSign);
    useNonce(`${authorization.accessKeyId}\n${nonce}`, timestamp);
    return credential;
  };

  return {
    addCredential,
    authenticate(request) {
      const header = request.headers.authorization;
      return header?.startsWith('ACS3-') ? authenticateV3(request, header) : authenticateV1(request);
    },
    authorize(credential, action) {
      if (credential.actions && !credential.actions.some((pattern) => allows(pattern, `cityvisual:${action}`))) {
        throw new RpcError(
          403,
          'Forbidden.RAM',
          "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
        );
      }
    },
  };
};
