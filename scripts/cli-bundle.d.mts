import type { BuildOptions, Plugin } from 'esbuild';

export declare const CLI_OUT: string;
export declare const zodClassicCopy: Plugin;
export declare const cliModulesBuild: (outdir?: string) => BuildOptions;
export declare const cliValidateBuild: (outdir?: string) => BuildOptions;
