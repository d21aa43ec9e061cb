/**
 * bench:peers' command line: `--only` picks rows by words of their names (so the lead can run the four
 * analytics rows alone at 20M), refuses a word that picks nothing, and a partial run does not overwrite the
 * full run's results files unless given one. `--reuse` takes only a kept dir made with the same data options.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePeersOptions, selectQueries } from '../bench/peers/options.js';
import { checkReusable, writeReuseOptions } from '../bench/peers/reuse.js';

const rows = ['exact plate, all time', 'fuzzy k=1', 'convoy, busy target, 28 days', 'multi-site, 3 sites', 'frequent visitor, 500 m, 28 days', 'cloned plates, 7 days'].map((name) => ({ name }));

describe('bench:peers --only', () => {
  it('selects the rows whose name contains a word, case-insensitive, in the query set order', () => {
    const o = parsePeersOptions(['--only', 'Cloned, convoy']);
    expect(o.only).toEqual(['cloned', 'convoy']);
    expect(selectQueries(rows, o.only).map((q) => q.name)).toEqual(['convoy, busy target, 28 days', 'cloned plates, 7 days']);
    expect(selectQueries(rows, parsePeersOptions(['--only', 'convoy,multi-site,frequent,cloned']).only)).toHaveLength(4);
  });

  it('without --only every row runs and the results files keep their defaults', () => {
    const o = parsePeersOptions([]);
    expect(o.only).toEqual([]);
    expect(selectQueries(rows, o.only)).toHaveLength(rows.length);
    expect(o.out).toBe('bench/results/peers.json');
    expect(o.markdown).toBe('bench/RESULTS.md');
  });

  it('a partial run writes no results file unless given one', () => {
    expect(parsePeersOptions(['--only', 'cloned'])).toMatchObject({ out: undefined, markdown: undefined });
    expect(parsePeersOptions(['--only', 'cloned', '--out', '/tmp/x.json'])).toMatchObject({ out: '/tmp/x.json', markdown: undefined });
  });

  it('refuses a word that matches no row, and an empty list', () => {
    expect(() => selectQueries(rows, ['clone', 'hotlist'])).toThrow(/"hotlist" matches no query/);
    expect(() => parsePeersOptions(['--only', ' , '])).toThrow(/--only needs/);
  });
});

describe('bench:peers --reuse', () => {
  it('takes a dir a --keep run wrote its data options to, and refuses one made with other options, one without, and --pg', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ps-peers-reuse-'));
    try {
      const o = parsePeersOptions(['--reuse', dir, '--reads', '5000', '--seed', '3']);
      expect(o.reuse).toBe(dir);
      expect(() => checkReusable(dir, o)).toThrow(/no peers-options\.json/);
      writeReuseOptions(dir, o);
      expect(() => checkReusable(dir, o)).toThrow(/no engine dir or peers\.duckdb/);
      mkdirSync(join(dir, 'engine'));
      writeFileSync(join(dir, 'peers.duckdb'), '');
      expect(() => checkReusable(dir, o)).not.toThrow();
      // runs, threads, --only: not the data's options
      expect(() => checkReusable(dir, parsePeersOptions(['--reads', '5000', '--seed', '3', '--runs', '9', '--only', 'convoy']))).not.toThrow();
      expect(() => checkReusable(dir, parsePeersOptions(['--reads', '5000', '--seed', '4']))).toThrow(/--seed 3 \(here 4\)/);
      expect(() => checkReusable(dir, parsePeersOptions(['--reads', '6000', '--seed', '3', '--days', '10', '--tenants', '2']))).toThrow(/--reads 5000 \(here 6000\), --tenants 3 \(here 2\), --days 28 \(here 10\)/);
      expect(() => parsePeersOptions(['--reuse', dir, '--pg'])).toThrow(/--reuse with --pg/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
