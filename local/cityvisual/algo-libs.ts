/**
 * The algorithm library table of the CityVisual emulator: in memory, optionally persisted as one JSON file that is
 * replaced atomically (temp file + rename) on every change, so ids keep increasing across restarts.
 * The OSS AccessKey secret is never stored: the emulator checks it once, at create or modify time.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const algoLibSchema = z.object({
  AlgoLibId: z.string(),
  AlgoLibName: z.string(),
  AlgoLibVersion: z.string(),
  CapabilityNames: z.string(),
  Capacity: z.number().int(),
  JsonText: z.string(),
  Text: z.string(),
  OssAccessKeyId: z.string(),
  OssBucket: z.string(),
  OssEndpoint: z.string(),
  OssPath: z.string(),
  UploadTime: z.string(),
  InstanceId: z.string(),
});

const tableFileSchema = z.object({ nextId: z.number().int().positive(), libraries: z.array(algoLibSchema) });

export type AlgoLib = z.infer<typeof algoLibSchema>;
export type AlgoLibFields = Omit<AlgoLib, 'AlgoLibId'>;

export type AlgoLibTable = {
  /** Copies, in id order. */
  list(): AlgoLib[];
  get(algoLibId: string): AlgoLib | undefined;
  findByName(instanceId: string, name: string): AlgoLib | undefined;
  insert(fields: AlgoLibFields): AlgoLib;
  update(algoLibId: string, patch: Partial<AlgoLibFields>): AlgoLib;
  remove(algoLibId: string): boolean;
};

export const TABLE_FILE = 'cityvisual-algolibs.json';

type TableState = z.infer<typeof tableFileSchema>;

const load = (file: string | undefined): TableState => {
  if (!file) return { nextId: 1, libraries: [] };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { nextId: 1, libraries: [] };
    throw error;
  }
  // A damaged table should stop the emulator, not silently start empty and reuse ids.
  return tableFileSchema.parse(JSON.parse(text));
};

const save = (file: string, state: TableState) => {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(temp, file);
};

/** Opens (or creates) the table in `dataDir`; without `dataDir` it lives in memory only. */
export const openAlgoLibTable = (dataDir?: string): AlgoLibTable => {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const file = dataDir ? join(dataDir, TABLE_FILE) : undefined;
  let state = load(file);

  // Writes are synchronous so that two requests can never persist their states out of order;
  // memory changes only after the file did, so a failed write leaves both unchanged.
  const commit = (next: TableState) => {
    if (file) save(file, next);
    state = next;
  };

  const get = (algoLibId: string) => state.libraries.find((lib) => lib.AlgoLibId === algoLibId);
  const copy = (lib: AlgoLib): AlgoLib => ({ ...lib });

  return {
    list: () => state.libraries.map(copy),
    get(algoLibId) {
      const lib = get(algoLibId);
      return lib && copy(lib);
    },
    findByName(instanceId, name) {
      const lib = state.libraries.find((l) => l.InstanceId === instanceId && l.AlgoLibName === name);
      return lib && copy(lib);
    },
    insert(fields) {
      const lib: AlgoLib = { AlgoLibId: String(state.nextId), ...fields };
      commit({ nextId: state.nextId + 1, libraries: [...state.libraries, lib] });
      return copy(lib);
    },
    update(algoLibId, patch) {
      const current = get(algoLibId);
      if (!current) throw new Error(`Expected AlgoLibId ${algoLibId} to exist`);
      const lib: AlgoLib = { ...current, ...patch, AlgoLibId: algoLibId };
      commit({ ...state, libraries: state.libraries.map((l) => (l === current ? lib : l)) });
      return copy(lib);
    },
    remove(algoLibId) {
      if (!get(algoLibId)) return false;
      commit({ ...state, libraries: state.libraries.filter((l) => l.AlgoLibId !== algoLibId) });
      return true;
    },
  };
};
