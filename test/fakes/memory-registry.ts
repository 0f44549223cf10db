/** In-memory AlgoLibRegistry: CityVisual's name uniqueness and Duplicate error, with scriptable failures. */
import type { AlgoLibRegistry, CreateAlgoLibParams } from '../../shared/cityvisual.ts';
import { RemoteError } from '../../shared/errors.ts';

export type MemoryRegistry = AlgoLibRegistry & {
  libraries: Map<string, CreateAlgoLibParams & { AlgoLibId: string }>;
  calls: { create: number; findByName: number };
  /** The next `times` creates fail with `code` (retryable unless told otherwise). */
  failNext(times: number, code: string, options?: { retryable?: boolean; commit?: boolean }): void;
  /** Runs inside every create before it answers (lets a test interleave other work). */
  beforeCreate?: () => Promise<void> | void;
};

export const createMemoryRegistry = (): MemoryRegistry => {
  const libraries = new Map<string, CreateAlgoLibParams & { AlgoLibId: string }>();
  const failures: Array<{ left: number; code: string; retryable: boolean; commit: boolean }> = [];
  let nextId = 36;
  const registry: MemoryRegistry = {
    libraries,
    calls: { create: 0, findByName: 0 },
    failNext: (times, code, options) =>
      failures.push({ left: times, code, retryable: options?.retryable ?? true, commit: options?.commit ?? false }),
    async create(params) {
      registry.calls.create += 1;
      await registry.beforeCreate?.();
      const failure = failures.find((entry) => entry.left > 0);
      if (failure) failure.left -= 1;
      if (failure && !failure.commit) {
        throw new RemoteError(
          { service: 'cityvisual', code: failure.code, retryable: failure.retryable },
          `CityVisual CreateAlgoLib failed: ${failure.code}`,
        );
      }
      if (libraries.has(params.AlgoLibName)) {
        throw new RemoteError(
          { service: 'cityvisual', code: 'InvalidName.Duplicate', retryable: false, httpStatus: 400 },
          'CityVisual CreateAlgoLib failed: InvalidName.Duplicate: The specified name already exists.',
        );
      }
      const AlgoLibId = String(nextId++);
      libraries.set(params.AlgoLibName, { ...params, AlgoLibId });
      // "Create, then drop the connection": the library exists but the caller hears an error.
      if (failure?.commit) {
        throw new RemoteError(
          { service: 'cityvisual', code: failure.code, retryable: true },
          `CityVisual CreateAlgoLib failed: ${failure.code}`,
        );
      }
      return AlgoLibId;
    },
    async findByName(name) {
      registry.calls.findByName += 1;
      const library = libraries.get(name);
      return (
        library && {
          algoLibId: library.AlgoLibId,
          name,
          version: library.AlgoLibVersion,
          ossBucket: library.OssBucket,
          ossPath: library.OssPath,
        }
      );
    },
  };
  return registry;
};
