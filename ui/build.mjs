// Builds the web console into dist/ui/ (served by src/server/routes/console.ts): `npm run build:ui`.
//
//   ui/src/main.tsx ──esbuild──► console-<hash>.js + console-<hash>.css (+ Leaflet's images, hashed)
//   us-atlas/counties-10m.json ─► counties-<hash>.json (fetched at run time: the bundle stays small)
//   index.html, naming the three hashed files; `%TILE_URL%` is filled in by the server
//
// Plain JavaScript, so that it runs before (and without) tsc. Every name carries a content hash, so the
// server may send the files with a one-year immutable cache; index.html is the only file served no-cache.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, 'dist', 'ui');
const require = createRequire(import.meta.url);

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const started = performance.now();
const result = await build({
  entryPoints: [join(root, 'ui', 'src', 'main.tsx')],
  bundle: true,
  minify: true,
  sourcemap: false,
  format: 'esm',
  // the signed-in shell (Leaflet, the pages) is a chunk of its own, loaded after sign-in
  splitting: true,
  chunkNames: 'chunk-[hash]',
  target: ['chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: out,
  entryNames: 'console-[hash]',
  assetNames: '[name]-[hash]',
  loader: { '.png': 'file', '.svg': 'file' },
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
});

let js;
let css;
for (const [file, meta] of Object.entries(result.metafile.outputs)) {
  if (meta.entryPoint?.endsWith('main.tsx') && file.endsWith('.js')) js = basename(file);
  if (file.endsWith('.css')) css = basename(file);
}
if (!js || !css) throw new Error('esbuild did not produce the console bundle');
// chunks the entry imports statically (Preact, signals): named in the page, so they load alongside the entry
// instead of after it; the signed-in shell's chunk (a dynamic import) is left for after sign-in
const entryMeta = Object.entries(result.metafile.outputs).find(([f]) => basename(f) === js)[1];
const preloads = entryMeta.imports.filter((i) => i.kind === 'import-statement').map((i) => basename(i.path));

const atlasBytes = readFileSync(require.resolve('us-atlas/counties-10m.json'));
const atlas = `counties-${createHash('sha256').update(atlasBytes).digest('hex').slice(0, 8).toUpperCase()}.json`;
writeFileSync(join(out, atlas), atlasBytes);

// No inline script or style: the CSP (default-src 'self') would refuse them. The favicon is an empty data:
// URL so the browser does not ask the server for /favicon.ico.
const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>platesearch console</title>
<meta name="platesearch-tiles" content="%TILE_URL%">
<meta name="platesearch-atlas" content="/ui/${atlas}">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/${css}">
${preloads.map((p) => `<link rel="modulepreload" href="/ui/${p}">`).join('\n')}
<script type="module" src="/ui/${js}"></script>
</head>
<body>
<div id="app"></div>
</body>
</html>
`;
writeFileSync(join(out, 'index.html'), html);
const kib = (f) => Math.round(readFileSync(join(out, f)).length / 1024);
const chunks = Object.keys(result.metafile.outputs).map((f) => basename(f)).filter((f) => f.startsWith('chunk-'));
console.log(`console: ${js} (${kib(js)} KiB) + ${chunks.map((c) => `${c} (${kib(c)} KiB)`).join(' + ')}, ${css}, ${atlas} in ${Math.round(performance.now() - started)} ms`);
