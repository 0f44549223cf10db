import type { BuildOptions, Plugin } from 'esbuild';

export declare const ICONV_SIDECAR: string;
export declare const iconvSidecar: Plugin;
export declare const zodEnglishOnly: Plugin;
export declare const platformShim: Plugin;
export declare const commonOptions: BuildOptions;
export declare const registerBuilds: (
  outdir: string,
  options?: BuildOptions & { entry?: string; plugins?: Plugin[] },
) => BuildOptions[];
