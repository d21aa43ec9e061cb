/**
 * An independent verifier of an audit log, written from API.md alone (it imports nothing from src/):
 * hash = sha256hex(prev + "\n" + canonical(recordWithoutHash)), canonical = JSON with keys sorted at every
 * level, first prev = 64 zeros, seq from 1.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

function canon(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']';
  const o = v as Record<string, unknown>;
  return '{' + Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => JSON.stringify(k) + ':' + canon(o[k])).join(',') + '}';
}

export function oracleVerify(path: string): { ok: boolean; count: number; head: string; brokenAt?: number } {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let prev = '0'.repeat(64);
  let count = 0;
  for (let i = 0; i < lines.length; i++) {
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(lines[i]!);
    } catch {
      return { ok: false, count, head: prev, brokenAt: i + 1 };
    }
    const { hash, ...rest } = r;
    const h = createHash('sha256').update(prev + '\n' + canon(rest)).digest('hex');
    if (r.seq !== i + 1 || r.prev !== prev || h !== hash) return { ok: false, count, head: prev, brokenAt: i + 1 };
    prev = h;
    count++;
  }
  return { ok: true, count, head: prev };
}
