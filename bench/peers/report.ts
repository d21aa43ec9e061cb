/**
 * Publishing a peer run: `peers.json` (one row per query, as issue 3 asks: query, engineMs, duckdbMs,
 * postgresMs, bestPeerMs, ratio, equal), `peers-load.json` next to it (the machine, the command, load
 * times and bytes per read), and the "## Peers" section of bench/RESULTS.md, rewritten only between its
 * own markers so that other sections of the file are left as they are.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { writeResultsSection } from '../results-section.js';
import { cpus, totalmem } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import type { LoadReport } from './peer.js';

export const kBeginMarker = '<!-- peers:begin -->';
export const kEndMarker = '<!-- peers:end -->';
/** issue 3: at least 2x the best peer on every query. */
export const kTargetRatio = 2;

export interface QueryRow {
  query: string;
  /** What exactly was asked (plate, tenant, window). */
  describe: string;
  engineMs: number | null;
  duckdbMs: number | null;
  postgresMs: number | null;
  bestPeerMs: number | null;
  /** bestPeerMs / engineMs: above 1, the engine is faster. */
  ratio: number | null;
  equal: boolean;
  /** The engine's answer in brief (total, hits). */
  answer: string;
  /** Where answers differed, or what failed. */
  problems: string[];
}

export interface RunInfo {
  date: string;
  command: string;
  machine: string;
  node: string;
  duckdb: string;
  postgres: string | null;
  reads: number;
  data: string;
  runs: number;
  /** The warm-up per query and system, in ms (0: one run). */
  warmupMs: number;
  threads: number;
  subject: string;
}

export function machineDescription(): string {
  const cpu = cpus();
  return `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM`;
}

export function queryRow(query: string, describe: string, engineMs: number | null, duckdbMs: number | null,
  postgresMs: number | null, equal: boolean, answer: string, problems: string[]): QueryRow {
  const peers = [duckdbMs, postgresMs].filter((x): x is number => x !== null);
  const bestPeerMs = peers.length > 0 ? Math.min(...peers) : null;
  const ratio = bestPeerMs !== null && engineMs !== null && engineMs > 0 ? bestPeerMs / engineMs : null;
  return { query, describe, engineMs, duckdbMs, postgresMs, bestPeerMs, ratio, equal, answer, problems };
}

function round(x: number | null, digits = 3): number | null {
  return x === null ? null : Number(x.toFixed(digits));
}

export function loadFiguresPath(out: string): string {
  return join(dirname(out), `${basename(out, extname(out))}-load${extname(out) || '.json'}`);
}

export function writeJson(out: string, rows: readonly QueryRow[], info: RunInfo, loads: readonly LoadReport[]): void {
  mkdirSync(dirname(out), { recursive: true });
  const json = rows.map((r) => ({
    query: r.query, describe: r.describe,
    engineMs: round(r.engineMs), duckdbMs: round(r.duckdbMs), postgresMs: round(r.postgresMs),
    bestPeerMs: round(r.bestPeerMs), ratio: round(r.ratio, 2), equal: r.equal, answer: r.answer,
    ...(r.problems.length > 0 ? { problems: r.problems } : {}),
  }));
  writeFileSync(out, JSON.stringify(json, null, 2) + '\n');
  writeFileSync(loadFiguresPath(out), JSON.stringify({ ...info, load: loads }, null, 2) + '\n');
}

function ms(x: number | null): string {
  if (x === null) return '–';
  if (x >= 100) return x.toLocaleString('en-US', { maximumFractionDigits: 0 });
  if (x >= 10) return x.toFixed(1);
  if (x >= 1) return x.toFixed(2);
  return x.toFixed(3);
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toLocaleString('en-US', { maximumFractionDigits: 0 })} MB`;
}

export function renderSection(rows: readonly QueryRow[], info: RunInfo, loads: readonly LoadReport[], notes: readonly string[]): string {
  const lines = [
    kBeginMarker,
    '## Peers',
    '',
    `- Machine: ${info.machine}; Node ${info.node}; DuckDB ${info.duckdb}; ${info.postgres ? `PostgreSQL ${info.postgres}` : 'PostgreSQL not run'}`,
    `- Date: ${info.date}`,
    `- Command: \`${info.command}\``,
    `- Data: ${info.reads.toLocaleString('en-US')} reads; ${info.data}`,
    `- Each figure is the median of ${info.runs} runs after a warm-up of ${info.warmupMs ? `${info.warmupMs} ms` : 'one run'}, wall time through each system's own client ` +
      `API in this process (engine: library API; DuckDB: @duckdb/node-api; PostgreSQL: pg over 127.0.0.1), ` +
      `answers included. Threads: ${info.threads} (PostgreSQL: ${info.threads - 1} parallel worker + leader).` +
      (info.subject === 'engine' ? '' : ` Subject: ${info.subject} (not the engine).`),
    '',
    '| query | ours (ms) | DuckDB (ms) | PostgreSQL (ms) | best peer (ms) | ratio | ≥ 2x | answers |',
    '| --- | ---: | ---: | ---: | ---: | ---: | :---: | --- |',
  ];
  for (const r of rows) {
    const hit = r.ratio === null ? '–' : r.ratio >= kTargetRatio ? 'yes' : 'no';
    lines.push(`| ${r.query} | ${ms(r.engineMs)} | ${ms(r.duckdbMs)} | ${ms(r.postgresMs)} | ${ms(r.bestPeerMs)} | ` +
      `${r.ratio === null ? '–' : r.ratio.toFixed(2)} | ${hit} | ${r.equal ? 'equal' : '**DIFFER**'} (${r.answer}) |`);
  }
  lines.push('', 'Ratio = best peer / ours; above 1 we are faster. Queries:', '');
  for (const r of rows) lines.push(`- ${r.query}: ${r.describe}`);
  lines.push('', '### Load and memory', '',
    '| system | reads | load (s) | per 1M reads (s) | bytes | bytes/read | what the bytes are |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const l of loads) {
    lines.push(`| ${l.peer} | ${l.reads.toLocaleString('en-US')} | ${(l.loadMs / 1000).toFixed(1)} | ` +
      `${(l.msPerMillionReads / 1000).toFixed(2)} | ${mb(l.bytes)} | ${l.bytesPerRead.toFixed(1)} | ${l.bytesWhat} |`);
  }
  lines.push('');
  for (const l of loads) {
    const d = Object.entries(l.details).map(([k, v]) => `${k} ${k.endsWith('Bytes') ? mb(v) : k.endsWith('Ms') ? `${(v / 1000).toFixed(1)} s` : v}`);
    lines.push(`- ${l.peer}: ${d.join('; ')}`);
  }
  if (notes.length > 0) lines.push('', ...notes.map((n) => `- ${n}`));
  lines.push(kEndMarker);
  return lines.join('\n');
}

/** Rewrites the "## Peers" section of `file` (between its markers) with `section`. */
export function writeSection(file: string, section: string): void {
  writeResultsSection(file, { begin: kBeginMarker, end: kEndMarker }, section);
}
