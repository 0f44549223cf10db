/**
 * English messages for the function's zod schemas, which use `zod/mini`: import this module beside `zod/mini`.
 *
 * Mini rather than classic zod: the same core and messages without classic's schema classes, ≈ 13 ms less of every
 * cold start (docs/bench.md §1). Mini installs no locale (classic installs English on its first schema), and without
 * one every built-in message reads "Invalid input"; it is set only when unset, as classic does, so an explicit
 * `z.config` elsewhere still wins. (Each schema file imports `zod/mini` as a namespace itself: re-exporting the
 * namespace from here would make esbuild keep all of it, ≈ 120 KiB more bundle.)
 *
 * @example
 * ```ts
 * import * as z from 'zod/mini';
 * import './zod.ts';
 * ```
 */
import { config, locales } from 'zod/mini';

if (!config().localeError) config(locales.en());
