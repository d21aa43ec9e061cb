/**
 * From a plate pattern to the n-grams a matching plate must contain (src/store/plate-grams.ts), or to
 * nothing when no such argument holds (the caller then scans the whole dictionary, as before). The plan
 * only has to be *necessary*: every plate the pattern matches satisfies it; the candidates it yields are
 * verified by the dictionary kernel afterwards (src/query/gram-match.ts), so a loose plan costs time,
 * never answers.
 *
 *   plan = OR over alternatives, each an AND over groups, each an OR over gram keys
 *
 *   wildcard `*UE80*`, `4ZU?80*`: one alternative; every literal run between `?` / `*` appears in the
 *     plate as it is, so each of its trigrams (a run of 2: its bigram) is a group. Runs of one character
 *     say nothing.
 *   fuzzy k (Levenshtein): pigeonhole (Baeza-Yates & Navarro; Wu & Manber's "k+1 pieces"): take k+1
 *     disjoint pieces of the pattern. An edit script of ≤ k operations touches ≤ k pieces (a substitution
 *     or deletion touches the piece of its character, an insertion only the piece it falls inside), so
 *     one piece is untouched and appears in the plate contiguously. One alternative per piece: its grams.
 *   fuzzy k with transpositions (OSA): a swap of two adjacent characters touches two pieces when they
 *     are neighbours, so the pieces are kept at least one character apart; then each operation still
 *     touches at most one piece.
 *   exact with OCR classes (not a dictionary lookup): the whole pattern is one literal run.
 *   OCR classes (`ocr: true`): the matcher compares ocrMap(plate) with ocrMap(pattern); a run of the
 *     mapped pattern appears in the mapped plate, so the plate holds, at that place, *some* gram that maps
 *     to the run's gram: each group is the OR of those raw grams (≤ 4·4·4 of them, `0ODQ` being the
 *     largest class).
 *
 * No plan (scan instead) when the argument gives nothing to look up: pieces would be shorter than two
 * characters (a 7-character pattern with k=2 and transpositions, any pattern of ≤ 5 characters with k=2,
 * `*A*`, `?????`), or the pattern holds a character outside the plate alphabet.
 *
 * Among the many ways to cut a fuzzy pattern into pieces, the one whose pieces' rarest grams add up to
 * the fewest postings is taken (the index's own counts), e.g. `42UE80X` k=2 → `42` `UE` `80X`, or `42U`
 * `E8` `0X`, whichever names fewer plates.
 */
import { ocrMap } from '../model/plate.js';
import type { PlateMatch } from '../model/query.js';
import { gramKey, gramSymbol, kGramAlphabet, type PlateGrams } from '../store/plate-grams.js';

/** Gram keys any one of which the plate may contain (more than one only under OCR classes). */
export type GramGroup = readonly number[];

export interface GramPlan {
  /** A matching plate satisfies at least one alternative: it contains some gram of each of its groups. */
  alternatives: ReadonlyArray<readonly GramGroup[]>;
  /** Postings the plan reads at least: the sum over alternatives of their smallest group's size. */
  estimate: number;
}

/** The shortest piece worth looking up: a bigram. */
const kMinPiece = 2;

/** Per OCR class representative, the plate characters that map to it (e.g. `0` → `0ODQ`). */
const kOcrMembers: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>();
  for (const ch of kGramAlphabet) {
    const rep = ocrMap(ch);
    m.set(rep, (m.get(rep) ?? '') + ch);
  }
  return m;
})();

/** The raw grams behind a gram of the (possibly OCR-mapped) pattern. */
function groupOf(gram: string, ocr: boolean): GramGroup {
  if (!ocr) return [gramKey(gram)];
  let grams = [''];
  for (const ch of gram) {
    const members = kOcrMembers.get(ch) ?? ch;
    grams = grams.flatMap((g) => [...members].map((c) => g + c));
  }
  return grams.map(gramKey);
}

/** The groups of one literal run: its trigrams, or its bigram when it has two characters. */
function runGroups(run: string, ocr: boolean): GramGroup[] {
  if (run.length < kMinPiece) return [];
  if (run.length === 2) return [groupOf(run, ocr)];
  const out: GramGroup[] = [];
  for (let i = 0; i + 3 <= run.length; i++) out.push(groupOf(run.slice(i, i + 3), ocr));
  return out;
}

function isPlateText(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (gramSymbol(s.charCodeAt(i)) < 0) return false;
  return true;
}

function groupSize(grams: PlateGrams, g: GramGroup): number {
  let n = 0;
  for (const key of g) n += grams.sizeOf(key);
  return n;
}

function smallest(grams: PlateGrams, groups: readonly GramGroup[]): number {
  let best = Infinity;
  for (const g of groups) best = Math.min(best, groupSize(grams, g));
  return best;
}

/**
 * The fuzzy pigeonhole: `pieces` disjoint pieces of `p`, each ≥ kMinPiece long, at least `gap`
 * characters apart, chosen to minimise the sum of their smallest groups. Undefined when none fits.
 */
function bestPieces(p: string, pieces: number, gap: number, ocr: boolean, grams: PlateGrams): { groups: GramGroup[][]; estimate: number } | undefined {
  const m = p.length;
  const memo = new Map<number, { groups: GramGroup[]; size: number }>();
  const piece = (start: number, len: number) => {
    const key = start * 16 + len;
    let v = memo.get(key);
    if (!v) {
      const groups = runGroups(p.slice(start, start + len), ocr);
      memo.set(key, (v = { groups, size: smallest(grams, groups) }));
    }
    return v;
  };
  let best: { starts: number[]; lens: number[]; estimate: number } | undefined;
  const starts: number[] = [], lens: number[] = [];
  // depth-first over placements; m ≤ 10 and pieces ≤ 3 keep this to a few hundred placements
  const place = (j: number, from: number, sum: number): void => {
    if (best && sum >= best.estimate) return;
    if (j === pieces) {
      best = { starts: [...starts], lens: [...lens], estimate: sum };
      return;
    }
    const left = pieces - j - 1; // pieces still to place after this one
    for (let start = from; start + kMinPiece + left * (kMinPiece + gap) <= m; start++) {
      for (let len = kMinPiece; start + len + left * (kMinPiece + gap) <= m; len++) {
        starts.push(start);
        lens.push(len);
        place(j + 1, start + len + gap, sum + piece(start, len).size);
        starts.pop();
        lens.pop();
      }
    }
  };
  place(0, 0, 0);
  if (!best) return undefined;
  const b: { starts: number[]; lens: number[]; estimate: number } = best;
  return { groups: b.starts.map((s, j) => piece(s, b.lens[j]!).groups), estimate: b.estimate };
}

/** The n-gram plan of `match` over `grams`, or undefined when the index cannot narrow it (scan instead). */
export function planGrams(match: PlateMatch, grams: PlateGrams): GramPlan | undefined {
  const p = match.ocr ? ocrMap(match.pattern) : match.pattern;
  switch (match.mode) {
    case 'wildcard':
    case 'exact': {
      const runs = match.mode === 'exact' ? [p] : p.split(/[?*]+/);
      if (!runs.every(isPlateText)) return undefined;
      const groups = runs.flatMap((r) => runGroups(r, match.ocr));
      if (groups.length === 0) return undefined;
      return { alternatives: [groups], estimate: smallest(grams, groups) };
    }
    case 'fuzzy': {
      if (!isPlateText(p)) return undefined;
      const k = match.maxEdits;
      if (k === 0) {
        const groups = runGroups(p, match.ocr);
        return groups.length === 0 ? undefined : { alternatives: [groups], estimate: smallest(grams, groups) };
      }
      const best = bestPieces(p, k + 1, match.transpositions ? 1 : 0, match.ocr, grams);
      return best && { alternatives: best.groups, estimate: best.estimate };
    }
  }
}
