/**
 * The console's model of the registry, computed from what the pipeline wrote: library records
 * (`<status prefix>.libraries/<name>.json`, shared/library-record.ts) where they exist, and status documents always.
 * A library without a record (written before records existed, or only ever turned away) is derived from its status
 * documents alone, so the console works either way. Pure: the server reads the objects, this shapes them.
 */
import type { LibraryRecord, LibraryUpload } from '../shared/library-record.ts';
import type { NotificationRecord, RegistrationState, StatusDocument, StatusError } from '../shared/status.ts';

/** One upload of a library as the console shows it. */
export type UploadView = {
  statusKey: string;
  packageKey: string;
  manifestKey: string | undefined;
  version: string | undefined;
  state: RegistrationState;
  change: StatusDocument['change'];
  previous: StatusDocument['previous'];
  waitingFor: StatusDocument['waitingFor'];
  algoLibId: string | undefined;
  errors: StatusError[];
  notifications: NotificationRecord[];
  at: string;
  /** `false` for a record's history entry whose status document is gone: only its summary is known. */
  detailed: boolean;
};

export type LibraryRow = {
  name: string;
  /** The version CityVisual has now, when the library exists. */
  version: string | undefined;
  algoLibId: string | undefined;
  /** The state of the newest upload, whatever it was. */
  state: RegistrationState;
  change: StatusDocument['change'];
  updatedAt: string;
  uploads: number;
  /** Where the row comes from: a library record, or status documents alone. */
  source: 'record' | 'status';
};

export type LibraryDetail = { row: LibraryRow; uploads: UploadView[]; owner: LibraryRecord['owner'] };

export type RegistryObjects = {
  statuses: ReadonlyMap<string, StatusDocument>;
  records: ReadonlyMap<string, LibraryRecord>;
};

/**
 * The library a status document belongs to: its manifest's name, or (for a manifest that never parsed) the folder
 * of its package, which is what `algolib publish` names the folder after.
 */
export const libraryNameOf = (document: StatusDocument): string => {
  if (document.name) return document.name;
  const parts = document.package.key.split('/');
  const file = parts.at(-1) ?? '';
  return parts.length > 1 ? (parts.at(-2) as string) : file.replace(/\.tar\.gz$/, '');
};

/**
 * The version an upload claims: its manifest's, or (for a manifest that never parsed) what the package's file name
 * says after `<name>-`, which is how `algolib publish` names packages.
 */
const versionOf = (document: StatusDocument, name: string): string | undefined => {
  if (document.version) return document.version;
  const file = document.package.key.split('/').at(-1) ?? '';
  const stem = file.replace(/\.tar\.gz$/, '');
  return stem.startsWith(`${name}-`) && stem.length > name.length + 1 ? stem.slice(name.length + 1) : undefined;
};

const fromStatus = (statusKey: string, document: StatusDocument): UploadView => ({
  statusKey,
  packageKey: document.package.key,
  manifestKey: document.manifest?.key,
  version: versionOf(document, libraryNameOf(document)),
  state: document.state,
  change: document.change,
  previous: document.previous,
  waitingFor: document.waitingFor,
  algoLibId: document.algoLibId,
  errors: Array.isArray(document.errors) ? document.errors : [],
  notifications: Array.isArray(document.notifications) ? document.notifications : [],
  at: document.updatedAt,
  detailed: true,
});

const fromHistory = (upload: LibraryUpload): UploadView => ({
  statusKey: upload.statusKey,
  packageKey: upload.packageKey,
  manifestKey: undefined,
  version: upload.version,
  state: upload.state,
  change: upload.change,
  previous: undefined,
  waitingFor: undefined,
  algoLibId: undefined,
  errors: (upload.codes ?? []).map((code) => ({ code, message: code })),
  notifications: [],
  at: upload.at,
  detailed: false,
});

const newestFirst = (a: UploadView, b: UploadView) =>
  b.at.localeCompare(a.at) || b.statusKey.localeCompare(a.statusKey);

/** Every upload of `name`: status documents in full, plus record history whose status document is gone. */
const uploadsOf = (name: string, objects: RegistryObjects): UploadView[] => {
  const uploads = new Map<string, UploadView>();
  for (const [key, document] of objects.statuses)
    if (libraryNameOf(document) === name) uploads.set(key, fromStatus(key, document));
  for (const upload of objects.records.get(name)?.history ?? [])
    if (!uploads.has(upload.statusKey)) uploads.set(upload.statusKey, fromHistory(upload));
  return [...uploads.values()].sort(newestFirst);
};

const rowOf = (name: string, uploads: UploadView[], record: LibraryRecord | undefined): LibraryRow => {
  const latest = uploads[0];
  const registered = uploads.find((upload) => upload.state === 'REGISTERED');
  return {
    name,
    version: record?.version ?? registered?.version,
    algoLibId: record?.algoLibId ?? registered?.algoLibId,
    state: latest?.state ?? record?.latest.state ?? 'PENDING',
    change: latest?.change,
    updatedAt:
      [latest?.at, record?.updatedAt]
        .filter((at): at is string => at !== undefined)
        .sort()
        .at(-1) ?? '',
    uploads: uploads.length,
    source: record ? 'record' : 'status',
  };
};

/**
 * One row per library, newest activity first.
 *
 * @example
 * ```ts
 * libraryRows({ statuses: new Map([['status/library/face/face-1.2.0.json', doc]]), records: new Map() });
 * // [{ name: 'face', version: '1.2.0', state: 'REGISTERED', source: 'status', … }]
 * ```
 */
export const libraryRows = (objects: RegistryObjects): LibraryRow[] => {
  const names = new Set<string>(objects.records.keys());
  for (const document of objects.statuses.values()) names.add(libraryNameOf(document));
  return [...names]
    .map((name) => rowOf(name, uploadsOf(name, objects), objects.records.get(name)))
    .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || a.name.localeCompare(b.name));
};

/**
 * One library with every upload, newest first; `undefined` when nothing is known of `name`.
 *
 * @example
 * ```ts
 * libraryDetail('face', objects)?.uploads[0]?.errors; // [{ code: 'MANIFEST_INVALID', path: 'capacity', … }]
 * ```
 */
export const libraryDetail = (name: string, objects: RegistryObjects): LibraryDetail | undefined => {
  const uploads = uploadsOf(name, objects);
  const record = objects.records.get(name);
  if (uploads.length === 0 && !record) return undefined;
  return { row: rowOf(name, uploads, record), uploads, owner: record?.owner };
};
