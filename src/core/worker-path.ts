/**
 * Where a worker thread's compiled script is. Worker threads run JavaScript only: from dist/ the script
 * sits next to its caller; when the caller runs from src/ (vitest transpiles on the fly), dist/'s copy of
 * the same file is used, which `npm test` builds first.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * @param callerUrl `import.meta.url` of the module starting the worker
 * @param fromSrc the script relative to the caller when the caller runs from src/ (e.g. '../../dist/src/gen/encode-worker.js')
 * @param fromDist the script relative to the caller in dist/ (e.g. './encode-worker.js')
 */
export function compiledWorkerPath(callerUrl: string, fromSrc: string, fromDist: string): string {
  const file = builtWorkerPath(callerUrl, fromSrc, fromDist);
  if (!file) throw new Error(`worker script not built (${fileURLToPath(new URL(callerUrl.endsWith('.ts') ? fromSrc : fromDist, callerUrl))}); run \`npm run build\``);
  return file;
}

/** As compiledWorkerPath, but undefined when the script is not built (for workers the caller can do without). */
export function builtWorkerPath(callerUrl: string, fromSrc: string, fromDist: string): string | undefined {
  const file = fileURLToPath(new URL(callerUrl.endsWith('.ts') ? fromSrc : fromDist, callerUrl));
  return existsSync(file) ? file : undefined;
}
