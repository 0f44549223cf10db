/**
 * The console's server on the local cloud, over plain HTTP: what the API answers, that it leaks no secret, that it
 * refuses what it must (a replay without the token, a foreign Host, a key it does not show), and the page weight
 * budget the README states. The browser tests (console.browser.test.ts) drive the page itself.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ossClientOf } from '../../cli/bucket.ts';
import type { LocalPanels } from '../../console/local-panels-types.ts';
import type { LibraryDetail, LibraryRow } from '../../console/registry.ts';
import { startConsoleServer } from '../../console/server.ts';
import { openConsoleStore } from '../../console/store.ts';
import { CANARY_MARKER } from '../../proving/canary.ts';
import { type LibraryRecord, type LibraryUpload, libraryRecordKeyOf } from '../../shared/library-record.ts';
import {
  type ConsoleCloud,
  newPair,
  PAGE_WEIGHT_BUDGET_BYTES,
  startConsoleCloud,
  upload,
  uploadIntoDeadLetter,
} from './console-cloud.ts';

let env: ConsoleCloud;
const bodies: string[] = [];

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: string };

/** One request with full control over the headers (fetch would not let a test send another Host). */
const call = (path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
  new Promise<Answer>((resolve, reject) => {
    const url = new URL(path, env.console.url);
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: { host: url.host, ...options.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          bodies.push(body);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });

const json = async <T>(path: string): Promise<T> => {
  const answer = await call(path);
  expect(answer.status, answer.body).toBe(200);
  return JSON.parse(answer.body) as T;
};

beforeAll(async () => {
  env = await startConsoleCloud();
}, 60_000);

afterAll(async () => {
  await env?.close();
});

describe('the console API on the local cloud', () => {
  it('lists a registered library with its version and AlgoLibId, from status documents alone', async () => {
    // Arrange
    const pair = newPair('api-ok');
    await upload(env.client, pair);
    await env.cloud.idle();
    // A bucket the function wrote before library records existed has only status documents.
    await env.client.delete(`status/.libraries/${pair.name}.json`);

    // Act
    const { rows } = await json<{ rows: LibraryRow[] }>('/api/libraries');

    // Assert
    expect(rows.find((row) => row.name === pair.name)).toMatchObject({
      name: pair.name,
      version: '1.0.0',
      algoLibId: expect.stringMatching(/^\d+$/),
      state: 'REGISTERED',
      source: 'status',
    });
  });

  it('answers 304 to a poll with the ETag of what it already sent', async () => {
    // Arrange
    const first = await call('/api/libraries');

    // Act
    const again = await call('/api/libraries', { headers: { 'if-none-match': String(first.headers.etag) } });

    // Assert
    expect(first.headers.etag).toMatch(/^"[\w-]+"$/);
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
  });

  it('prefers the library record for the current version, and keeps uploads the record alone remembers', async () => {
    // Arrange: a record as the register core writes it, for a name whose status documents are gone.
    const uploadOf = (version: string, change: 'created' | 'updated', at: string): LibraryUpload => ({
      version,
      packageKey: `library/recorded-lib/recorded-lib-${version}.tar.gz`,
      statusKey: `status/library/recorded-lib/recorded-lib-${version}.json`,
      state: 'REGISTERED',
      change,
      at,
    });
    const latest = uploadOf('2.0.0', 'updated', '2026-12-01T10:00:00.000Z');
    const record: LibraryRecord = {
      schemaVersion: 1,
      name: 'recorded-lib',
      algoLibId: '900',
      version: '2.0.0',
      package: { bucket: 'algolib-local', key: latest.packageKey },
      owner: { bucket: 'algolib-local', folder: 'library/recorded-lib/' },
      latest,
      history: [uploadOf('1.0.0', 'created', '2026-11-30T10:00:00.000Z'), latest],
      generation: 0,
      updatedAt: latest.at,
    };
    await env.client.put(libraryRecordKeyOf('recorded-lib', 'status/'), Buffer.from(JSON.stringify(record)));

    // Act
    const { rows } = await json<{ rows: LibraryRow[] }>('/api/libraries');
    const detail = await json<LibraryDetail>('/api/libraries/recorded-lib');

    // Assert
    expect(rows.find((row) => row.name === 'recorded-lib')).toMatchObject({
      version: '2.0.0',
      algoLibId: '900',
      state: 'REGISTERED',
      change: 'updated',
      uploads: 2,
      source: 'record',
    });
    expect(detail.uploads.map((u) => [u.version, u.change, u.detailed])).toEqual([
      ['2.0.0', 'updated', false],
      ['1.0.0', 'created', false],
    ]);
    expect(detail.owner).toEqual({ bucket: 'algolib-local', folder: 'library/recorded-lib/' });
  });

  it('shows a rejected upload with its error path and the manifest the path points into', async () => {
    // Arrange
    const pair = newPair('api-bad', '1.0.0', { capacity: 0 });
    await upload(env.client, pair);
    await env.cloud.idle();

    // Act
    const detail = await json<LibraryDetail>(`/api/libraries/${pair.name}`);
    const manifest = await json<{ text: string }>(`/api/manifest?key=${encodeURIComponent(pair.manifestKey)}`);

    // Assert
    expect(detail.row.state).toBe('REJECTED');
    expect(detail.uploads[0]?.errors).toContainEqual(
      expect.objectContaining({ code: 'MANIFEST_INVALID', path: 'capacity' }),
    );
    expect(JSON.parse(manifest.text)).toMatchObject({ name: pair.name, capacity: 0 });
  });

  it('reads no object the registry does not point at', async () => {
    // Act
    const answer = await call(`/api/manifest?key=${encodeURIComponent('status/.claims/x/000000.json')}`);

    // Assert
    expect(answer.status).toBe(404);
  });

  it('shows a dead letter, and replays it only with the token, a JSON body and a key it shows', async () => {
    // Arrange
    const pair = newPair('api-dead');
    await uploadIntoDeadLetter(env.cloud, env.client, pair);
    const panels = await json<LocalPanels>('/api/local');
    const token = env.console.token;
    const post = (body: unknown, headers: Record<string, string>) =>
      call('/api/replay', { method: 'POST', headers, body: JSON.stringify(body) });

    // Act
    const noToken = await post({ packageKey: pair.packageKey }, { 'content-type': 'application/json' });
    const wrongToken = await post(
      { packageKey: pair.packageKey },
      { 'content-type': 'application/json', 'x-algolib-console-token': 'x'.repeat(token.length) },
    );
    const asForm = await post(
      { packageKey: pair.packageKey },
      { 'content-type': 'text/plain', 'x-algolib-console-token': token },
    );
    const unknown = await post(
      { packageKey: 'library/x/x-1.0.0.tar.gz' },
      { 'content-type': 'application/json', 'x-algolib-console-token': token },
    );
    const accepted = await post(
      { packageKey: pair.packageKey },
      { 'content-type': 'application/json', 'x-algolib-console-token': token },
    );
    await env.cloud.idle();
    const detail = await json<LibraryDetail>(`/api/libraries/${pair.name}`);

    // Assert
    // Either half's event can be the one that found both halves and failed, depending on when FC ran it.
    expect(panels.deadLetters.find((letter) => letter.packageKey === pair.packageKey)).toMatchObject({
      key: expect.toSatisfy((key: string) => key === pair.manifestKey || key === pair.packageKey),
      attempts: 3,
    });
    expect([noToken.status, wrongToken.status, asForm.status, unknown.status]).toEqual([403, 403, 415, 404]);
    expect(accepted.status).toBe(202);
    expect(detail.row.state).toBe('REGISTERED');
  });

  it('shows FC invocations with their log lines, the CityVisual table and the verified deliveries', async () => {
    // Act
    const panels = await json<LocalPanels>('/api/local');

    // Assert
    const invocation = panels.invocations.find(
      (entry) => entry.trigger.startsWith('oss:') && entry.outcome === 'succeeded',
    );
    expect(invocation).toMatchObject({ kind: 'async', attempt: 1, ms: expect.any(Number) });
    expect(invocation?.lines.length).toBeGreaterThan(0);
    expect(invocation?.lines.every((line) => line.includes(invocation.requestId))).toBe(true);
    expect(panels.libraries.length).toBeGreaterThan(0);
    expect(panels.libraries[0]).not.toHaveProperty('ossAccessKeyId');
    expect(panels.deliveries.some((delivery) => delivery.verified && delivery.type === 'algolib.registered')).toBe(
      true,
    );
  });

  it('is read-only without a replay function, as against the cloud without --allow-replay', async () => {
    // Arrange: the console `algolib console --bucket b` starts, over the same bucket.
    const oss = { ...env.cloud.state.oss, securityToken: undefined };
    const { bucket, accessKeySecret } = oss;
    const store = openConsoleStore(await ossClientOf(oss, 15_000), bucket);
    const readOnly = await startConsoleServer({
      store,
      statusPrefix: 'status/',
      targetLabel: `oss://${bucket}`,
      secrets: () => [accessKeySecret],
    });
    try {
      const pair = newPair('api-readonly');
      await upload(env.client, pair);
      await env.cloud.idle();

      // Act
      const config = (await (await fetch(new URL('/api/config', readOnly.url))).json()) as {
        replay: boolean;
        local: boolean;
      };
      const refused = await fetch(new URL('/api/replay', readOnly.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-algolib-console-token': readOnly.token },
        body: JSON.stringify({ packageKey: pair.packageKey }),
      });
      const local = await fetch(new URL('/api/local', readOnly.url));

      // Assert
      expect(config).toMatchObject({ replay: false, local: false });
      expect(refused.status).toBe(405);
      expect(((await refused.json()) as { error: string }).error).toContain('--allow-replay');
      expect(local.status).toBe(404);
    } finally {
      await readOnly.close();
    }
  });

  it('refuses a Host other than its own loopback origin (DNS rebinding)', async () => {
    // Act
    const answer = await call('/api/libraries', { headers: { host: 'attacker.example:80' } });
    const page = await call('/', { headers: { host: 'attacker.example:80' } });

    // Assert
    expect(answer.status).toBe(421);
    expect(page.status).toBe(421);
    expect(page.body).not.toContain(env.console.token);
  });

  it('serves the page from the package with a CSP that allows this origin only, within the weight budget', async () => {
    // Act
    const page = await call('/');
    const assets = await Promise.all(['/app.css', '/app.js'].map((path) => call(path)));

    // Assert
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(page.body).not.toMatch(/https?:\/\//);
    for (const asset of assets) expect(asset.status).toBe(200);
    const weight = [page, ...assets].reduce((sum, answer) => sum + Buffer.byteLength(answer.body), 0);
    expect(weight).toBeLessThan(PAGE_WEIGHT_BUDGET_BYTES);
  });

  it('sends no canary secret in any response it gave in this file', async () => {
    // Arrange: every page, API answer and error this file received.
    await json('/api/config');
    await json('/api/local');

    // Act
    const leaks = bodies.filter((body) => body.includes(CANARY_MARKER));

    // Assert
    expect(bodies.length).toBeGreaterThan(10);
    expect(leaks).toEqual([]);
  });
});
