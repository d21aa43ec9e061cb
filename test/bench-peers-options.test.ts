/**
 * bench:peers' command line: `--only` picks rows by words of their names (so the lead can run the four
 * analytics rows alone at 20M), refuses a word that picks nothing, and a partial run does not overwrite the
 * full run's results files unless given one.
 */
import { describe, expect, it } from 'vitest';
import { parsePeersOptions, selectQueries } from '../bench/peers/options.js';

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
