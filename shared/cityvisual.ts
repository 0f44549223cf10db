/**
 * AlgoLibRegistry: CityVisual's algorithm-library API as a port, its adapter over `@alicloud/pop-core`, and the
 * classification of every way a call can fail (retry, permanent, or "resolve the duplicate").
 */
import RPCClient from '@alicloud/pop-core';
import type { Credentials } from './credentials.ts';
import { RemoteError } from './errors.ts';
import { algoLibParameters, type Manifest } from './manifest.ts';

export const API_VERSION = '2018-10-30';

/** The wire parameters of CreateAlgoLib (ModifyAlgoLib takes the same plus `AlgoLibId`); the adapter builds them. */
export type CreateAlgoLibParams = {
  AlgoLibName: string;
  AlgoLibVersion: string;
  CapabilityNames: string;
  Capacity: number;
  InstanceId: string;
  JsonText: string;
  Text: string;
  OssAccessKeyId: string;
  OssAccessKeySecret: string;
  OssBucket: string;
  OssEndpoint: string;
  OssPath: string;
  RegionId: string;
};

/** What a library is, in the manifest's terms: the adapter turns it into wire fields. */
export type AlgoLibSpec = Pick<Manifest, 'name' | 'version' | 'capabilities' | 'capacity' | 'objects' | 'text'>;

/** Where the library's package lives (`OssBucket`, `OssPath`). */
export type AlgoLibLocation = { bucket: string; path: string };

/** A library as DescribeAlgoLibs lists it. */
export type AlgoLib = {
  algoLibId: string;
  name: string;
  version: string;
  location: AlgoLibLocation;
  /** What the library says of itself, as DescribeAlgoLibs lists it (absent fields: unknown). */
  fields?: { capabilityNames?: string; capacity?: number; jsonText?: string; text?: string };
};

/**
 * Whether CityVisual's library says what `spec` would have it say (capabilities, capacity, object configs, text):
 * evidence that it was made from this very release when nothing else records it. Unknown fields never match.
 *
 * @example
 * ```ts
 * sameFields(library, manifest); // true when CreateAlgoLib/ModifyAlgoLib of this manifest made it
 * ```
 */
export const sameFields = (library: AlgoLib, spec: AlgoLibSpec): boolean => {
  const wire = algoLibParameters(spec);
  const fields = library.fields;
  return (
    fields !== undefined &&
    fields.capabilityNames === wire.CapabilityNames &&
    fields.capacity === wire.Capacity &&
    fields.jsonText === wire.JsonText &&
    fields.text === wire.Text
  );
};

/** CityVisual's algorithm libraries in domain terms; instance, region and the reader key belong to the adapter. */
export type AlgoLibRegistry = {
  /** CreateAlgoLib; resolves to the new library's id (always a string). */
  create(spec: AlgoLibSpec, location: AlgoLibLocation, timeoutMs: number): Promise<string>;
  /** ModifyAlgoLib with every field of `spec` (CityVisual keeps the library's id and name). */
  update(algoLibId: string, spec: AlgoLibSpec, location: AlgoLibLocation, timeoutMs: number): Promise<void>;
  /** DescribeAlgoLibs filtered to an exact name match, paging through every page. */
  find(name: string, timeoutMs: number): Promise<AlgoLib | undefined>;
};

/** Codes that say "try again later", whatever the HTTP status (throttling is 400 in some products, 429 in others). */
const RETRYABLE_CODE =
  /^(Throttling(\..*)?|Rejected\.Throttling|ServiceUnavailable|InternalError|System\.Busy|Operation\.Blocking|SignatureNonceUsed)$/;
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EPIPE',
  'ENOTFOUND',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

type PopCoreError = {
  name?: string;
  code?: string;
  message?: string;
  /** pop-core: the body; Tea (`@alicloud/openapi-client`): the body plus `statusCode`. */
  data?: { Code?: string; Message?: string; RequestId?: string; statusCode?: number };
  entry?: { response?: { statusCode?: number } };
};

/**
 * Codes that say the deployment, not the package, is at fault: the caller's RAM permissions, AccessKey, STS token,
 * signature or clock, and the deployment's own CityVisual/OSS settings. Each maps to what to fix.
 * Sources: the POP gateway's public error codes (Alibaba API error center, product "Public":
 * https://error-center.alibabacloud.com/status/product/Public, and https://help.aliyun.com/document_detail/53438.html:
 * InvalidAccessKeyId.NotFound/.Inactive, InvalidSecurityToken.Expired/.MismatchWithAccessKey/.Malformed,
 * MissingSecurityToken, SignatureDoesNotMatch, IncompleteSignature, InvalidSignatureMethod, InvalidTimeStamp.*,
 * Forbidden.AccessKeyDisabled); the common 403s of the ECS and PolarDB error tables
 * (https://help.aliyun.com/document_detail/51132.html: Forbidden.RAM, Forbidden.NotSupportRAM, ActionUnauthorized,
 * Forbidden.SubUser, Forbidden.Unauthorized); `NoPermission` with `AccessDeniedDetail`, the newer gateway's RAM denial
 * (RAM DecodeDiagnosticMessage reference; `@alicloud/openapi-client` reads `AccessDeniedDetail`); and CreateAlgoLib's
 * own InvalidOssBucket.*, InvalidOssEndpoint.NotFound, InvalidInstanceId.NotFound, which name deployment settings.
 */
const DEPLOYMENT_FAULTS: ReadonlyArray<[RegExp, (action: string) => string]> = [
  [
    /^(Forbidden\.RAM|Forbidden\.NotSupportRAM|Forbidden\.SubUser|Forbidden\.Unauthorized|Forbidden|NoPermission|ActionUnauthorized)$/,
    (action) => `the function's role needs cityvisual:${action}`,
  ],
  [
    /^(InvalidAccessKeyId(\..+)?|Forbidden\.AccessKeyDisabled)$/,
    () => "the function's AccessKey is unknown or disabled: check the function's role",
  ],
  [
    /^(InvalidSecurityToken(\..+)?|MissingSecurityToken)$/,
    () => "the STS token of the function's role is missing, expired or not the AccessKey's: check the function's role",
  ],
  [
    /^(SignatureDoesNotMatch|IncompleteSignature|InvalidSignatureMethod)$/,
    () => "the request's signature was refused: the AccessKey secret does not belong to the AccessKey ID",
  ],
  [/^InvalidTimeStamp\..+$/, () => "the function's clock is more than 15 minutes off the gateway's"],
  [
    /^InvalidOssBucket\.(ValueUnauthorized|NotFound)$/,
    () => 'the CityVisual read key cannot read the package bucket: check deploy/ram/cityvisual-read-key-policy.json',
  ],
  [/^InvalidOssEndpoint\.NotFound$/, () => 'the OSS endpoint handed to CityVisual is wrong: check OssEndpoint'],
  [
    /^Invalid(InstanceId|RegionId)\.NotFound$/,
    () => 'check the CityVisualInstanceId and CityVisualRegionId parameters',
  ],
];

/**
 * What to fix when `code` says the deployment is at fault, or `undefined` when the code may be the package's.
 *
 * @example
 * ```ts
 * deploymentFault('Forbidden.RAM', 'CreateAlgoLib'); // "the function's role needs cityvisual:CreateAlgoLib"
 * deploymentFault('InvalidName.Duplicate', 'CreateAlgoLib'); // undefined
 * ```
 */
export const deploymentFault = (code: string, action: string): string | undefined =>
  DEPLOYMENT_FAULTS.find(([pattern]) => pattern.test(code))?.[1](action);

/**
 * The gateway echoes its string to sign in a SignatureDoesNotMatch message (`… server string to sign is:POST&%2F&…`),
 * and for a POST that string holds every parameter, OssAccessKeySecret included: it never reaches our messages.
 */
const SERVER_STRING_TO_SIGN = /\s*server string to sign is:[\s\S]*$/;

/**
 * Turns anything pop-core (or Tea) throws into a `RemoteError`: API errors keep CityVisual's code; throttling, 5xx,
 * non-JSON bodies, network errors and timeouts are retryable; RAM, credential, signature and deployment-setting codes
 * are `deployment` faults (not retryable at once, never the package's fault); the rest (`Invalid*`, `*.NotFound`, …)
 * are permanent. The message never contains the request URL (pop-core appends it, and a GET's URL carries secrets)
 * nor the gateway's echoed string to sign.
 *
 * @example
 * ```ts
 * try { await client.request('CreateAlgoLib', params, opts); }
 * catch (error) { throw classifyCityVisualError(error, 'CreateAlgoLib'); }
 * ```
 */
export const classifyCityVisualError = (error: unknown, action: string): RemoteError => {
  const e = (error ?? {}) as PopCoreError;
  const status = e.entry?.response?.statusCode ?? e.data?.statusCode;
  if (e.data && typeof e.data.Code === 'string') {
    const code = e.data.Code;
    const requestId = e.data.RequestId ? ` (request id ${e.data.RequestId})` : '';
    const fix = deploymentFault(code, action);
    if (fix !== undefined) {
      return new RemoteError(
        { service: 'cityvisual', code, retryable: false, httpStatus: status, deployment: true },
        `CityVisual ${action} refused: ${code} — ${fix}${requestId}`,
        { cause: error },
      );
    }
    const retryable = RETRYABLE_CODE.test(code) || (status !== undefined && status >= 500);
    const message = (e.data.Message ?? 'no message').replace(SERVER_STRING_TO_SIGN, '');
    return new RemoteError(
      { service: 'cityvisual', code, retryable, httpStatus: status },
      `CityVisual ${action} failed: ${code}: ${message}${requestId}`,
      { cause: error },
    );
  }
  if (e.name === 'SyntaxError') {
    // json-bigint throws a plain object for a body that is not JSON (a gateway's HTML 502 page).
    return new RemoteError(
      { service: 'cityvisual', code: 'InvalidResponse', retryable: true },
      `CityVisual ${action} answered with a body that is not JSON`,
    );
  }
  if (e.name === 'RequestTimeoutError') {
    return new RemoteError(
      { service: 'cityvisual', code: 'RequestTimeout', retryable: true },
      `CityVisual ${action} timed out (the outcome is unknown)`,
      {
        cause: error,
      },
    );
  }
  const code = typeof e.code === 'string' && e.code ? e.code : (e.name ?? 'UnknownError');
  // An error we cannot place is treated as transient: a wrong REJECTED is never retried, a wrong FAILED is.
  return new RemoteError(
    { service: 'cityvisual', code, retryable: NETWORK_CODES.has(code) || !(error instanceof TypeError) },
    `CityVisual ${action} failed: ${code}`,
    { cause: error },
  );
};

/**
 * One DescribeAlgoLibs item as a summary. An item without `AlgoLibId` (the reference's own JSON example has none) is
 * an invalid answer, never a library whose id is the string "undefined": it throws a retryable `InvalidResponse`.
 *
 * @example
 * ```ts
 * parseAlgoLibItem({ AlgoLibId: 36, AlgoLibName: 'face', AlgoLibVersion: '1.0.0', OssBucket: 'b', OssPath: 'k' });
 * // { algoLibId: '36', name: 'face', version: '1.0.0', location: { bucket: 'b', path: 'k' } }
 * ```
 */
export const parseAlgoLibItem = (item: Record<string, unknown>): AlgoLib => {
  const id = item.AlgoLibId;
  // The doc types it String, the example shows a number, and json-bigint gives a BigNumber past 2^53.
  const text =
    typeof id === 'string' || typeof id === 'number' || (typeof id === 'object' && id !== null) ? String(id) : '';
  const algoLibId = typeof id === 'object' && !/^\d+$/.test(text) ? '' : text;
  if (algoLibId === '' || typeof item.AlgoLibName !== 'string') {
    throw new RemoteError(
      { service: 'cityvisual', code: 'InvalidResponse', retryable: true },
      `CityVisual DescribeAlgoLibs answered an item without ${algoLibId === '' ? 'an AlgoLibId' : 'an AlgoLibName'}`,
    );
  }
  return {
    algoLibId,
    name: item.AlgoLibName,
    version: String(item.AlgoLibVersion ?? ''),
    location: { bucket: String(item.OssBucket ?? ''), path: String(item.OssPath ?? '') },
    fields: {
      ...(typeof item.CapabilityNames === 'string' ? { capabilityNames: item.CapabilityNames } : {}),
      // The models type Capacity as a String, the example shows a number.
      ...(item.Capacity !== undefined && item.Capacity !== null && Number.isFinite(Number(item.Capacity))
        ? { capacity: Number(item.Capacity) }
        : {}),
      ...(typeof item.JsonText === 'string' ? { jsonText: item.JsonText } : {}),
      ...(typeof item.Text === 'string' ? { text: item.Text } : {}),
    },
  };
};

type Verbose<T> = [T, { response: { statusCode: number } }];

type DescribeResponse = {
  TotalCount?: number;
  AlgoLibs?: { AlgoLib?: Array<Record<string, unknown>> };
};

const PAGE_SIZE = 100;
/** DescribeAlgoLibs pages read at most while resolving one name (10,000 near-matches). */
const MAX_PAGES = 100;

export type PopCoreRegistryOptions = {
  endpoint: string;
  instanceId: string;
  regionId: string;
  /** `OssEndpoint` and the read-only key CityVisual reads packages with (never logged). */
  oss: { endpoint: string; accessKeyId: string; accessKeySecret: string };
  /** Read at every request, so rotated STS credentials are used as soon as the FC context carries them. */
  credentials: () => Credentials;
};

/**
 * An `AlgoLibRegistry` over pop-core: POST only (a GET puts `OssAccessKeySecret` in the URL), explicit timeouts,
 * verbose mode so the HTTP status is checked even when the body says nothing.
 *
 * @example
 * ```ts
 * const registry = createPopCoreRegistry({ endpoint, instanceId, regionId: 'cn-shanghai', credentials: () => context.credentials });
 * const id = await registry.create(spec, { bucket, path: packageKey }, 10_000);
 * ```
 */
export const createPopCoreRegistry = (options: PopCoreRegistryOptions): AlgoLibRegistry => {
  const client = new (
    RPCClient as unknown as new (
      config: object,
      verbose: boolean,
    ) => {
      request<T>(action: string, params: object, opts: object): Promise<T>;
    }
  )(
    {
      endpoint: options.endpoint,
      apiVersion: API_VERSION,
      credentialsProvider: {
        getCredentials: async () => {
          const { accessKeyId, accessKeySecret, securityToken } = options.credentials();
          return { accessKeyId, accessKeySecret, securityToken };
        },
      },
    },
    true,
  );

  const request = async <T>(action: string, params: object, timeoutMs: number): Promise<T> => {
    let result: Verbose<T>;
    try {
      result = await client.request<Verbose<T>>(action, params, {
        method: 'POST',
        timeout: timeoutMs,
        formatParams: false,
      });
    } catch (error) {
      throw classifyCityVisualError(error, action);
    }
    const [body, entry] = result;
    const status = entry.response.statusCode;
    if (status >= 300) {
      // pop-core resolves any body without a Code, whatever the status: a 5xx with `{}` is not a success.
      throw new RemoteError(
        {
          service: 'cityvisual',
          code: `HTTP${status}`,
          retryable: status >= 500 || status === 429,
          httpStatus: status,
        },
        `CityVisual ${action} answered HTTP ${status} without an error code`,
      );
    }
    return body;
  };

  const wire = (spec: AlgoLibSpec, location: AlgoLibLocation): CreateAlgoLibParams => ({
    ...algoLibParameters(spec),
    InstanceId: options.instanceId,
    RegionId: options.regionId,
    OssBucket: location.bucket,
    OssPath: location.path,
    OssEndpoint: options.oss.endpoint,
    OssAccessKeyId: options.oss.accessKeyId,
    OssAccessKeySecret: options.oss.accessKeySecret,
  });

  return {
    async create(spec, location, timeoutMs) {
      const body = await request<{ AlgoLibId?: unknown }>('CreateAlgoLib', wire(spec, location), timeoutMs);
      if (body.AlgoLibId === undefined || body.AlgoLibId === null || body.AlgoLibId === '') {
        throw new RemoteError(
          { service: 'cityvisual', code: 'InvalidResponse', retryable: true },
          'CityVisual CreateAlgoLib answered without an AlgoLibId',
        );
      }
      // The doc types it String, the example shows a number, and json-bigint gives a BigNumber past 2^53.
      return String(body.AlgoLibId);
    },

    async update(algoLibId, spec, location, timeoutMs) {
      await request('ModifyAlgoLib', { ...wire(spec, location), AlgoLibId: algoLibId }, timeoutMs);
    },

    async find(name, timeoutMs) {
      for (let page = 1; page <= MAX_PAGES; page += 1) {
        const body = await request<DescribeResponse>(
          'DescribeAlgoLibs',
          {
            InstanceId: options.instanceId,
            RegionId: options.regionId,
            AlgoLibName: name,
            PageNumber: page,
            PageSize: PAGE_SIZE,
          },
          timeoutMs,
        );
        const libraries = body.AlgoLibs?.AlgoLib ?? [];
        // The name filter may match by prefix or substring: only an exact match is ours.
        const match = libraries.find((library) => library.AlgoLibName === name);
        if (match) return parseAlgoLibItem(match);
        if (libraries.length < PAGE_SIZE || page * PAGE_SIZE >= (body.TotalCount ?? 0)) return undefined;
      }
      return undefined;
    },
  };
};
