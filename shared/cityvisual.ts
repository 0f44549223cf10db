/**
 * AlgoLibRegistry: CityVisual's algorithm-library API as a port, and its adapter over one signed RPC call (the
 * function's is shared/rpc-client.ts; pop-core's `request` fits the same shape). How a failed call is classified is
 * shared/cityvisual-errors.ts.
 */
import { classifyCityVisualError } from './cityvisual-errors.ts';
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

/**
 * One signed RPC call, answering as pop-core's verbose `request` does (`[body, entry]`) and throwing what pop-core
 * throws: shared/rpc-client.ts's `call`, or pop-core's `request` with `{ method: 'POST', timeout, formatParams: false }`.
 */
export type RpcCall = <T>(
  action: string,
  params: Record<string, string | number>,
  timeoutMs: number,
) => Promise<[T, { response: { statusCode: number } }]>;

export type RegistryOptions = {
  call: RpcCall;
  instanceId: string;
  regionId: string;
  /** `OssEndpoint` and the read-only key CityVisual reads packages with (never logged). */
  oss: { endpoint: string; accessKeyId: string; accessKeySecret: string };
};

/**
 * An `AlgoLibRegistry` over one RPC call: POST only (a GET puts `OssAccessKeySecret` in the URL), explicit timeouts,
 * the HTTP status checked even when the body says nothing.
 *
 * @example
 * ```ts
 * const rpc = createRpcClient({ endpoint, apiVersion: API_VERSION, credentials: () => context.credentials });
 * const registry = createRegistry({ call: rpc.call, instanceId, regionId: 'cn-shanghai', oss });
 * const id = await registry.create(spec, { bucket, path: packageKey }, 10_000);
 * ```
 */
export const createRegistry = (options: RegistryOptions): AlgoLibRegistry => {
  const request = async <T>(action: string, params: Record<string, string | number>, timeoutMs: number): Promise<T> => {
    let result: Verbose<T>;
    try {
      result = await options.call<T>(action, params, timeoutMs);
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
