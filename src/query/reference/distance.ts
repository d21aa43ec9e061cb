/**
 * Reference edit distances: the textbook dynamic programmes, favouring clarity over speed.
 * They are the oracle the SIMD kernels are tested against.
 *
 *          ""  b1  b2  b3          d[i][j] = distance between a[0..i) and b[0..j)
 *     ""    0   1   2   3          d[i][j] = min(d[i-1][j] + 1,            delete a[i-1]
 *     a1    1   .   .   .                        d[i][j-1] + 1,            insert b[j-1]
 *     a2    2   .   .   .                        d[i-1][j-1] + (a≠b))      substitute
 *  OSA adds d[i-2][j-2] + 1 when a[i-1]=b[j-2] and a[i-2]=b[j-1] (one adjacent swap; no edits inside it).
 */

function table(a: string, b: string): number[][] {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    d.push(new Array<number>(b.length + 1).fill(0));
    d[i]![0] = i;
  }
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  return d;
}

/** Levenshtein distance: insert, delete, substitute, each cost 1. */
export function levenshtein(a: string, b: string): number {
  const d = table(a, b);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
    }
  }
  return d[a.length]![b.length]!;
}

/** Optimal string alignment distance: Levenshtein plus adjacent transposition at cost 1. */
export function osaDistance(a: string, b: string): number {
  const d = table(a, b);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
