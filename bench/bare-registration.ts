/**
 * The floor the per-event figure is held against: a bare script that makes a clean registration's requests with the
 * SDKs (ali-oss, pop-core), and nothing else: no event parsing, no validation, no retries, no logs, no decisions.
 * `requests: 'first-design'` makes the five of the first design (GET manifest ‖ HEAD package, PUT claim if absent,
 * CreateAlgoLib, PUT status); `'same'` the eight the handler makes on a first release since the releases work (those
 * five, and the library record read and written, and the claim's release marker; GetBucketVersioning is asked once
 * per instance, so once here at the start).
 */
import RPCClient from '@alicloud/pop-core';
import OSS from 'ali-oss';
import { claimKeyOf } from '../shared/keys.ts';
import { libraryRecordKeyOf } from '../shared/library-record.ts';
import { algoLibParameters, MANIFEST_MAX_BYTES, type Manifest } from '../shared/manifest.ts';

export type BarePair = { name: string; packageKey: string; manifestKey: string; statusKey: string };

type Credentials = { accessKeyId: string; accessKeySecret: string; securityToken: string };

type Rpc = {
  request<T>(action: string, params: object, options: object): Promise<T>;
};

export type BareRequests = 'first-design' | 'same';

export const createBareRegistration = (
  env: Record<string, string>,
  credentials: Credentials,
  requests: BareRequests = 'first-design',
) => {
  const { accessKeyId, accessKeySecret, securityToken } = credentials;
  const timeout = Number(env.OSS_TIMEOUT_MS ?? 10_000);
  const oss = new OSS({
    endpoint: env.OSS_ENDPOINT,
    region: env.OSS_REGION,
    bucket: env.OSS_BUCKET,
    accessKeyId,
    accessKeySecret,
    // Static credentials: a script lives shorter than a triplet (the interval only keeps ali-oss from warning).
    stsToken: securityToken,
    refreshSTSTokenInterval: Number.MAX_SAFE_INTEGER,
    authorizationV4: true,
    timeout,
  });
  const rpc = new (RPCClient as unknown as new (config: object, verbose: boolean) => Rpc)(
    {
      endpoint: env.CITYVISUAL_ENDPOINT,
      apiVersion: '2018-10-30',
      credentialsProvider: { getCredentials: async () => ({ accessKeyId, accessKeySecret, securityToken }) },
    },
    true,
  );

  const statusPrefix = env.STATUS_PREFIX ?? 'status/';
  const same = requests === 'same';
  // ali-oss 6.23 lib/common/bucket/getBucketVersioning.js; @types/ali-oss does not declare it.
  const versioning = same
    ? (oss as unknown as { getBucketVersioning(bucket: string): Promise<unknown> }).getBucketVersioning(
        env.OSS_BUCKET ?? '',
      )
    : Promise.resolve();

  return async (pair: BarePair): Promise<string> => {
    await versioning;
    const [manifestObject, head] = await Promise.all([
      oss.get(pair.manifestKey, { headers: { Range: `bytes=0-${MANIFEST_MAX_BYTES}` } }),
      oss.head(pair.packageKey),
    ]);
    const manifest = JSON.parse((manifestObject.content as Buffer).toString('utf8')) as Manifest;
    const etag = String((head.res.headers as Record<string, string>).etag);
    const claim = { schemaVersion: 1, name: manifest.name, owner: 'bare', package: { key: pair.packageKey, etag } };
    const claimKey = claimKeyOf(manifest.name, 0, statusPrefix);
    await oss.put(claimKey, Buffer.from(JSON.stringify(claim)), {
      headers: { 'x-oss-forbid-overwrite': 'true' },
      mime: 'application/json',
    });
    const recordKey = libraryRecordKeyOf(manifest.name, statusPrefix);
    if (same) {
      // A first release: no record yet (ali-oss throws NoSuchKey).
      await oss.get(recordKey, { headers: { Range: `bytes=0-${MANIFEST_MAX_BYTES}` } }).catch(() => undefined);
    }
    const [body] = await rpc.request<[{ AlgoLibId: unknown }]>(
      'CreateAlgoLib',
      {
        ...algoLibParameters(manifest),
        InstanceId: env.CITYVISUAL_INSTANCE_ID,
        RegionId: env.CITYVISUAL_REGION_ID,
        OssBucket: env.OSS_BUCKET,
        OssPath: pair.packageKey,
        OssEndpoint: env.CITYVISUAL_OSS_ENDPOINT,
        OssAccessKeyId: env.CITYVISUAL_OSS_ACCESS_KEY_ID,
        OssAccessKeySecret: env.CITYVISUAL_OSS_ACCESS_KEY_SECRET,
      },
      { method: 'POST', timeout, formatParams: false },
    );
    const status = {
      schemaVersion: 1,
      state: 'REGISTERED',
      name: manifest.name,
      version: manifest.version,
      algoLibId: String(body.AlgoLibId),
      created: true,
      package: { bucket: env.OSS_BUCKET, key: pair.packageKey, etag },
      manifest: { key: pair.manifestKey },
      errors: [],
      updatedAt: new Date().toISOString(),
    };
    await oss.put(pair.statusKey, Buffer.from(JSON.stringify(status)), { mime: 'application/json' });
    if (same) {
      const record = {
        schemaVersion: 1,
        name: manifest.name,
        current: { version: manifest.version, algoLibId: status.algoLibId, statusKey: pair.statusKey },
        generation: 0,
        history: [{ version: manifest.version, packageKey: pair.packageKey, state: 'REGISTERED' }],
        updatedAt: status.updatedAt,
      };
      await oss.put(recordKey, Buffer.from(JSON.stringify(record)), { mime: 'application/json' });
      await oss.put(claimKey.replace(/\.json$/, '.released.json'), Buffer.from(JSON.stringify({ released: true })), {
        headers: { 'x-oss-forbid-overwrite': 'true' },
        mime: 'application/json',
      });
    }
    return status.algoLibId;
  };
};
