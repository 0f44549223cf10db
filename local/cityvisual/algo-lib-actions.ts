/**
 * The four algorithm library Actions of CityVisual 2018-10-30 (CreateAlgoLib, DescribeAlgoLibs, ModifyAlgoLib,
 * DeleteAlgoLib): parameter validation with the documented error codes, over an `AlgoLibTable`.
 * Each handler takes the authenticated request parameters and returns the response body without `RequestId`.
 */
import type { AlgoLib, AlgoLibTable } from './algo-libs.ts';
import { invalidParameter, RpcError, required } from './rpc-error.ts';

export type OssAccessCheck = (
  bucket: string,
  accessKeyId: string,
  accessKeySecret: string,
) => 'ok' | 'no-bucket' | 'unauthorized';

export type AlgoLibActionContext = {
  table: AlgoLibTable;
  instanceIds: ReadonlySet<string>;
  capabilities: ReadonlySet<string>;
  /** Absent: any non-empty endpoint is accepted. */
  ossEndpoints: ReadonlySet<string> | undefined;
  /** Absent: every bucket exists and every key can read it. */
  ossAccess: OssAccessCheck | undefined;
  now: () => Date;
};

export type ActionHandler = (params: Record<string, string>) => Record<string, unknown>;

/** A plausible capability catalogue; the real one is per account and not documented. */
export const DEFAULT_CAPABILITIES = ['PERSON', 'FACE', 'VEHICLE', 'MOTOR', 'NON_MOTOR', 'PLATE', 'HELMET', 'PARKING'];

export const ALGO_LIB_NAME = /^[A-Za-z][A-Za-z0-9_-]{1,63}$/;

/**
 * Capacity (video streams) is an integer in [1, 50]: the DescribeAlgoLibs reference bounds the field so
 * (`hglakfs/cityvisual:cn.zh-CN/API参考/算法库/DescribeAlgoLibs.md`, research §1.4); Create and Modify answer
 * anything else with their documented `InvalidCapacity.ValueNotSupported`.
 */
export const MAX_CAPACITY = 50;

/** CreateAlgoLib's required parameters, in the order the reference lists them (and we report the first missing). */
const CREATE_REQUIRED = [
  'AlgoLibName',
  'AlgoLibVersion',
  'CapabilityNames',
  'Capacity',
  'InstanceId',
  'JsonText',
  'OssAccessKeyId',
  'OssAccessKeySecret',
  'OssBucket',
  'OssEndpoint',
  'OssPath',
  'Text',
] as const;

/** ModifyAlgoLib's fields besides AlgoLibId: CreateAlgoLib's, without InstanceId (the library names its instance). */
const MODIFY_REQUIRED = CREATE_REQUIRED.filter((name) => name !== 'InstanceId') as Exclude<
  (typeof CREATE_REQUIRED)[number],
  'InstanceId'
>[];

/** `YYYY-MM-DDThh:mm:ssZ`, the format of every other CityVisual time field. */
const formatTime = (date: Date) => `${date.toISOString().slice(0, 19)}Z`;

const splitList = (value: string) => value.split(',').map((item) => item.trim());

const parseInteger = (value: string) => (/^\d{1,9}$/.test(value) ? Number(value) : Number.NaN);

/** An optional parameter: absent and empty are the same thing. */
const optional = (params: Record<string, string>, name: string) => params[name] || undefined;

export const createAlgoLibActions = (ctx: AlgoLibActionContext): Record<string, ActionHandler> => {
  const checkInstance = (instanceId: string) => {
    if (!ctx.instanceIds.has(instanceId)) {
      throw new RpcError(404, 'InvalidInstanceId.NotFound', 'The specified InstanceId does not exist.');
    }
  };

  const checkName = (name: string) => {
    if (!ALGO_LIB_NAME.test(name)) {
      throw new RpcError(400, 'InvalidName.Malformed', 'The specified Name is incorrectly formatted.');
    }
  };

  const parseCapacity = (value: string) => {
    const capacity = parseInteger(value);
    if (!(capacity >= 1 && capacity <= MAX_CAPACITY)) {
      throw new RpcError(400, 'InvalidCapacity.ValueNotSupported', 'The specified Capacity is invalid.');
    }
    return capacity;
  };

  const checkCapabilities = (value: string) => {
    if (!splitList(value).every((name) => ctx.capabilities.has(name))) {
      throw new RpcError(400, 'InvalidCapabilities.ValueNotSupported', 'The specified Capabilities is invalid.');
    }
  };

  const checkJsonText = (value: string) => {
    try {
      JSON.parse(value);
    } catch {
      throw invalidParameter('JsonText', 'a JSON string');
    }
  };

  const checkEndpoint = (endpoint: string) => {
    if (ctx.ossEndpoints && !ctx.ossEndpoints.has(endpoint)) {
      throw new RpcError(404, 'InvalidOssEndpoint.NotFound', 'The specified OssEndpoint does not exist.');
    }
  };

  const checkBucket = (bucket: string, accessKeyId: string, accessKeySecret: string) => {
    const access = ctx.ossAccess?.(bucket, accessKeyId, accessKeySecret) ?? 'ok';
    if (access === 'no-bucket') {
      throw new RpcError(404, 'InvalidOssBucket.NotFound', 'The specified OssBucket does not exist.');
    }
    if (access === 'unauthorized') {
      throw new RpcError(
        403,
        'InvalidOssBucket.ValueUnauthorized',
        'You are not authorized to operate on the specified OSS bucket.',
      );
    }
  };

  const checkNameFree = (instanceId: string, name: string, exceptId?: string) => {
    const holder = ctx.table.findByName(instanceId, name);
    if (holder && holder.AlgoLibId !== exceptId) {
      throw new RpcError(400, 'InvalidName.Duplicate', 'The specified name already exists.');
    }
  };

  const findLibrary = (params: Record<string, string>) => {
    const lib = ctx.table.get(required(params, 'AlgoLibId'));
    const instanceId = optional(params, 'InstanceId');
    if (instanceId !== undefined) checkInstance(instanceId);
    if (!lib || (instanceId !== undefined && lib.InstanceId !== instanceId)) {
      throw new RpcError(404, 'InvalidAlgoLibId.NotFound', 'The specified AlgoLibId does not exist.');
    }
    return lib;
  };

  /** Checks the fields CreateAlgoLib and ModifyAlgoLib share, in the order of their error tables; returns them as stored. */
  const libraryFields = (p: Record<(typeof MODIFY_REQUIRED)[number], string>) => {
    checkName(p.AlgoLibName);
    const capacity = parseCapacity(p.Capacity);
    checkCapabilities(p.CapabilityNames);
    checkJsonText(p.JsonText);
    checkEndpoint(p.OssEndpoint);
    checkBucket(p.OssBucket, p.OssAccessKeyId, p.OssAccessKeySecret);
    // Everything but the secret, which is checked once and never kept.
    return {
      AlgoLibName: p.AlgoLibName,
      AlgoLibVersion: p.AlgoLibVersion,
      CapabilityNames: p.CapabilityNames,
      Capacity: capacity,
      JsonText: p.JsonText,
      Text: p.Text,
      OssAccessKeyId: p.OssAccessKeyId,
      OssBucket: p.OssBucket,
      OssEndpoint: p.OssEndpoint,
      OssPath: p.OssPath,
    };
  };

  const CreateAlgoLib: ActionHandler = (params) => {
    for (const name of CREATE_REQUIRED) required(params, name);
    const p = params as Record<(typeof CREATE_REQUIRED)[number], string>;
    checkInstance(p.InstanceId);
    const fields = libraryFields(p);
    checkNameFree(p.InstanceId, p.AlgoLibName);
    const lib = ctx.table.insert({ ...fields, UploadTime: formatTime(ctx.now()), InstanceId: p.InstanceId });
    return { AlgoLibId: lib.AlgoLibId };
  };

  const DescribeAlgoLibs: ActionHandler = (params) => {
    const instanceId = required(params, 'InstanceId');
    checkInstance(instanceId);
    const pageNumber = parseInteger(optional(params, 'PageNumber') ?? '1');
    if (!(pageNumber >= 1)) throw invalidParameter('PageNumber', 'an integer from 1');
    const pageSize = parseInteger(optional(params, 'PageSize') ?? '10');
    if (!(pageSize >= 1 && pageSize <= 100)) throw invalidParameter('PageSize', 'an integer from 1 to 100');

    const algoLibId = optional(params, 'AlgoLibId');
    // A case-insensitive substring match, like a console search box: the docs do not promise an exact match.
    const name = optional(params, 'AlgoLibName')?.toLowerCase();
    const wanted = splitList(optional(params, 'CapabilityName') ?? '').filter(Boolean);
    const matches = ctx.table
      .list()
      .filter((lib) => lib.InstanceId === instanceId)
      .filter((lib) => algoLibId === undefined || lib.AlgoLibId === algoLibId)
      .filter((lib) => name === undefined || lib.AlgoLibName.toLowerCase().includes(name))
      .filter((lib) => wanted.every((capability) => splitList(lib.CapabilityNames).includes(capability)));
    const page = matches.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
    return {
      PageNumber: pageNumber,
      PageSize: pageSize,
      TotalCount: matches.length,
      AlgoLibs: { AlgoLib: page.map(describe) },
    };
  };

  /**
   * ModifyAlgoLib takes AlgoLibId plus every field of CreateAlgoLib, all marked required by its reference
   * (`hglakfs/cityvisual:cn.zh-CN/API参考/算法库/ModifyAlgoLib.md`; the TS SDK's typings make them optional, so the
   * stricter reading is emulated: a client that sends a partial modify fails here first). Its documented errors are
   * CreateAlgoLib's minus the instance, plus 404 InvalidAlgoLibId.NotFound; nothing changes unless all checks pass.
   */
  const ModifyAlgoLib: ActionHandler = (params) => {
    required(params, 'AlgoLibId');
    for (const name of MODIFY_REQUIRED) required(params, name);
    const p = params as Record<(typeof MODIFY_REQUIRED)[number], string>;
    const lib = findLibrary(params);
    const fields = libraryFields(p);
    checkNameFree(lib.InstanceId, p.AlgoLibName, lib.AlgoLibId);
    // A new package (another object, bucket, endpoint or version) is a new upload; a new capacity is not (chosen: the
    // reference only says UploadTime is the upload time).
    const uploaded =
      p.OssBucket !== lib.OssBucket ||
      p.OssEndpoint !== lib.OssEndpoint ||
      p.OssPath !== lib.OssPath ||
      p.AlgoLibVersion !== lib.AlgoLibVersion;
    ctx.table.update(lib.AlgoLibId, { ...fields, ...(uploaded && { UploadTime: formatTime(ctx.now()) }) });
    return {};
  };

  const DeleteAlgoLib: ActionHandler = (params) => {
    ctx.table.remove(findLibrary(params).AlgoLibId);
    return {};
  };

  return { CreateAlgoLib, DescribeAlgoLibs, ModifyAlgoLib, DeleteAlgoLib };
};

/** DescribeAlgoLibs' item: the documented fields only (no InstanceId, and there is no secret to leak). */
const describe = (lib: AlgoLib) => ({
  AlgoLibId: lib.AlgoLibId,
  AlgoLibName: lib.AlgoLibName,
  AlgoLibVersion: lib.AlgoLibVersion,
  CapabilityNames: lib.CapabilityNames,
  Capacity: lib.Capacity,
  JsonText: lib.JsonText,
  Text: lib.Text,
  OssAccessKeyId: lib.OssAccessKeyId,
  OssBucket: lib.OssBucket,
  OssEndpoint: lib.OssEndpoint,
  OssPath: lib.OssPath,
  UploadTime: lib.UploadTime,
});
