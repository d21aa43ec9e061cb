/**
 * A piece's lines found once (src/ingest/line-breaks.ts) against their plain definitions: node:readline's
 * split of a file (LF, CR LF, lone CR; nothing after a final break) and an HTTP NDJSON body's split at LF only
 * (String.split('\n') from the start offset). Random bytes of lines, CRs, LFs and CR LFs, arrays grown past
 * their first size.
 */
import { describe, expect, it } from 'vitest';
import { LineBreaks } from '../src/ingest/line-breaks.js';

function randomBytes(rnd: () => number, len: number): Buffer {
  const parts = ['a', 'bc', '{"plate":"X1"}', ' ', '\n', '\r', '\r\n', '\n\r', '\r\r', '\n\n'];
  let s = '';
  while (s.length < len) s += parts[Math.floor(rnd() * (rnd() < 0.7 ? 4 : parts.length))];
  return Buffer.from(s, 'latin1');
}

/** [start, end) of each line as readline splits a file. */
function fileLines(b: Buffer): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const text = b.toString('latin1');
  let start = 0;
  const re = /\r\n|\n|\r/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push([start, m.index]);
    start = m.index + m[0].length;
  }
  if (start < text.length) out.push([start, text.length]);
  return out;
}

describe('LineBreaks = the plain splits', () => {
  it('splitFile = readline\'s lines; splitLf = split at LF from an offset', () => {
    let s = 5;
    const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
    const breaks = new LineBreaks();
    for (let round = 0; round < 400; round++) {
      const b = randomBytes(rnd, Math.floor(rnd() * (round % 50 === 0 ? 40_000 : 300)));
      const n = breaks.splitFile(b);
      const got: Array<[number, number]> = [];
      for (let k = 0, pos = 0; k < n; k++) {
        got.push([pos, breaks.ends[k]!]);
        pos = breaks.nexts[k]!;
      }
      expect(got).toEqual(fileLines(b));

      const from = Math.min(b.length, Math.floor(rnd() * 3));
      const m = breaks.splitLf(b, from);
      const want = b.toString('latin1', from).split('\n').map((l) => l.length);
      const lens: number[] = [];
      for (let k = 0, pos = from; k < m; k++) {
        lens.push(breaks.ends[k]! - pos);
        expect(breaks.nexts[k]).toBe(breaks.ends[k]! + 1);
        pos = breaks.nexts[k]!;
      }
      expect(lens).toEqual(want);
    }
  });
});
