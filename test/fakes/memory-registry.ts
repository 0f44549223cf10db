/** In-memory AlgoLibRegistry: CityVisual's name uniqueness, Duplicate and NotFound errors, with scriptable failures. */
import type { AlgoLib, AlgoLibLocation, AlgoLibRegistry, AlgoLibSpec } from '../../shared/cityvisual.ts';
import { RemoteError } from '../../shared/errors.ts';
import { algoLibParameters } from '../../shared/manifest.ts';

export type StoredAlgoLib = AlgoLibSpec & { algoLibId: string; location: AlgoLibLocation };

type Operation = 'create' | 'update';

export type MemoryRegistry = AlgoLibRegistry & {
  /** By name. */
  libraries: Map<string, StoredAlgoLib>;
  calls: { create: number; update: number; find: number };
  /** The next `times` creates (or updates) fail with `code` (retryable unless told otherwise). */
  failNext(
    times: number,
    code: string,
    options?: { retryable?: boolean; commit?: boolean; deployment?: boolean; operation?: Operation },
  ): void;
  /** Runs inside every create and update before it answers (lets a test interleave other work). */
  beforeCreate?: () => Promise<void> | void;
  /** A library made by someone else (by hand, another pipeline). */
  seed(spec: Pick<AlgoLibSpec, 'name' | 'version'>, location: AlgoLibLocation): StoredAlgoLib;
};

export const createMemoryRegistry = (): MemoryRegistry => {
  const libraries = new Map<string, StoredAlgoLib>();
  const failures: Array<{
    left: number;
    code: string;
    retryable: boolean;
    commit: boolean;
    deployment: boolean;
    operation: Operation;
  }> = [];
  let nextId = 36;
  const fail = (failure: (typeof failures)[number], action: string) =>
    new RemoteError(
      { service: 'cityvisual', code: failure.code, retryable: failure.retryable, deployment: failure.deployment },
      `CityVisual ${action} failed: ${failure.code}`,
    );
  const takeFailure = (operation: Operation) => {
    const failure = failures.find((entry) => entry.left > 0 && entry.operation === operation);
    if (failure) failure.left -= 1;
    return failure;
  };
  const view = (library: StoredAlgoLib): AlgoLib => {
    const wire = library.objects.length > 0 ? algoLibParameters(library) : undefined;
    return {
      algoLibId: library.algoLibId,
      name: library.name,
      version: library.version,
      location: { ...library.location },
      ...(wire
        ? {
            fields: {
              capabilityNames: wire.CapabilityNames,
              capacity: wire.Capacity,
              jsonText: wire.JsonText,
              text: wire.Text,
            },
          }
        : {}),
    };
  };
  const registry: MemoryRegistry = {
    libraries,
    calls: { create: 0, update: 0, find: 0 },
    failNext: (times, code, options) =>
      failures.push({
        left: times,
        code,
        retryable: options?.retryable ?? true,
        commit: options?.commit ?? false,
        deployment: options?.deployment ?? false,
        operation: options?.operation ?? 'create',
      }),
    seed(spec, location) {
      const library = {
        name: spec.name,
        version: spec.version,
        capabilities: ['FACE'],
        capacity: 1,
        objects: [],
        algoLibId: String(nextId++),
        location,
      } as StoredAlgoLib;
      libraries.set(spec.name, library);
      return library;
    },
    async create(spec, location) {
      registry.calls.create += 1;
      await registry.beforeCreate?.();
      const failure = takeFailure('create');
      if (failure && !failure.commit) throw fail(failure, 'CreateAlgoLib');
      if (libraries.has(spec.name)) {
        throw new RemoteError(
          { service: 'cityvisual', code: 'InvalidName.Duplicate', retryable: false, httpStatus: 400 },
          'CityVisual CreateAlgoLib failed: InvalidName.Duplicate: The specified name already exists.',
        );
      }
      const algoLibId = String(nextId++);
      libraries.set(spec.name, { ...structuredClone(spec), algoLibId, location: { ...location } });
      // "Create, then drop the connection": the library exists but the caller hears an error.
      if (failure?.commit) throw fail(failure, 'CreateAlgoLib');
      return algoLibId;
    },
    async update(algoLibId, spec, location) {
      registry.calls.update += 1;
      await registry.beforeCreate?.();
      const failure = takeFailure('update');
      if (failure && !failure.commit) throw fail(failure, 'ModifyAlgoLib');
      const current = [...libraries.values()].find((library) => library.algoLibId === algoLibId);
      if (!current) {
        throw new RemoteError(
          { service: 'cityvisual', code: 'InvalidAlgoLibId.NotFound', retryable: false, httpStatus: 404 },
          'CityVisual ModifyAlgoLib failed: InvalidAlgoLibId.NotFound',
        );
      }
      libraries.delete(current.name);
      libraries.set(spec.name, { ...structuredClone(spec), algoLibId, location: { ...location } });
      if (failure?.commit) throw fail(failure, 'ModifyAlgoLib');
    },
    async find(name) {
      registry.calls.find += 1;
      const library = libraries.get(name);
      return library && view(library);
    },
  };
  return registry;
};
