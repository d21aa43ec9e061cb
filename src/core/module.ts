/**
 * Compiles the kernels' WebAssembly module once per thread and caches it. A `WebAssembly.Module` is
 * structured-cloneable: the engine compiles it on the main thread and hands it to piscina workers in
 * `workerData` (or a task), so workers never recompile; each worker then instantiates it once per arena
 * (src/core/kernels.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `release` is optimised (-O3, no asserts); `debug` keeps names and asserts for stack traces. */
export type KernelBuild = 'release' | 'debug';

const kFileOf: Record<KernelBuild, string> = { release: 'platesearch.wasm', debug: 'platesearch.debug.wasm' };

const cache = new Map<KernelBuild, WebAssembly.Module>();

/**
 * Path of the built module. `PLATESEARCH_WASM` overrides it; otherwise `build/` is looked up from this
 * file (src/core under vitest, dist/src/core once compiled).
 */
export function kernelModulePath(build: KernelBuild = 'release'): string {
  const fromEnv = process.env['PLATESEARCH_WASM'];
  if (fromEnv && build === 'release') return fromEnv;
  for (const up of ['../../build/', '../../../build/']) {
    const path = fileURLToPath(new URL(up + kFileOf[build], import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error(`kernel module ${kFileOf[build]} not found; run \`npm run build:wasm\``);
}

/** The compiled kernel module, compiled synchronously on first use and cached for this thread. */
export function kernelModule(build: KernelBuild = 'release'): WebAssembly.Module {
  let module = cache.get(build);
  if (!module) {
    module = new WebAssembly.Module(readFileSync(kernelModulePath(build)));
    cache.set(build, module);
  }
  return module;
}

/** Seeds this thread's cache with a module compiled elsewhere (e.g. received from the main thread). */
export function adoptKernelModule(module: WebAssembly.Module, build: KernelBuild = 'release'): void {
  cache.set(build, module);
}
