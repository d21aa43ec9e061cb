/**
 * OCR misreads injected into plates, each recorded in the truth file.
 *
 * Kinds, each with its own rate (GenOptions):
 * - `confusable`: one character (two in kDoubleShare of cases) replaced by a look-alike from the
 *   classes API.md's `ocr` mode folds: 0/O/D/Q, 1/I/L, 2/Z, 5/S, 6/G, 8/B, U/V;
 * - `other-substitution`: a look-alike that API.md's classes do NOT fold (7/T, 4/A, H/M/N, E/F,
 *   K/X, 3/8, P/R, C/G). Segmentation-level glyph confusions of this kind are commonly reported for
 *   ALPR engines; the rate is an assumption of this generator, kept small and separate so the
 *   match-quality report can show what the API's classes miss;
 * - `drop` / `extra`: a character lost (glare, a bolt over it) or added (a frame edge read as `1`/`I`,
 *   a glyph read twice);
 * - `transposition`: two adjacent characters swapped (segmentation order), rare.
 */
import { kOcrClasses } from '../model/plate.js';
import { Prng } from './prng.js';

export type MisreadKind = 'confusable' | 'other-substitution' | 'drop' | 'extra' | 'transposition';

/** Codes stored per read in a chunk; 0 is a correct read. */
export const kMisreadKinds: readonly MisreadKind[] = ['confusable', 'other-substitution', 'drop', 'extra', 'transposition'];

/** Look-alikes outside API.md's OCR classes (see the file comment). */
export const kOtherConfusions: readonly string[] = ['7T', '4A', 'HMN', 'EF', 'KX', '38', 'PR', 'CG'];

/** Share of confusable misreads that get a second substitution (a plate read badly overall). */
const kDoubleShare = 0.15;
const kMaxPlateLength = 10;

export interface MisreadRates {
  confusable: number;
  otherSubstitution: number;
  indel: number;
  transposition: number;
}

function lookAlikeTable(classes: readonly string[]): Array<string | undefined> {
  const table: Array<string | undefined> = new Array(128).fill(undefined);
  for (const cls of classes) for (const ch of cls) table[ch.charCodeAt(0)] = cls.replace(ch, '');
  return table;
}

export interface Misread {
  plate: string;
  /** 1-based code into kMisreadKinds. */
  kind: number;
  edits: number;
}

export class OcrErrorModel {
  private readonly confusable = lookAlikeTable(kOcrClasses);
  private readonly other = lookAlikeTable(kOtherConfusions);
  private readonly cutConfusable: number;
  private readonly cutOther: number;
  private readonly cutIndel: number;
  private readonly cutTransposition: number;

  constructor(rates: MisreadRates) {
    this.cutConfusable = rates.confusable;
    this.cutOther = this.cutConfusable + rates.otherSubstitution;
    this.cutIndel = this.cutOther + rates.indel;
    this.cutTransposition = this.cutIndel + rates.transposition;
  }

  /**
   * Whether a read whose draw is `x` (uniform in [0, 1), the read's first draw) may be a misread:
   * only then need the caller look its plate up (a cache miss per read, for the few percent that are).
   */
  mayMisread(x: number): boolean {
    return x < this.cutTransposition;
  }

  /**
   * Decides whether this read of `plate` is a misread and applies it. Returns undefined for a correct
   * read (also when the drawn error cannot apply, e.g. no confusable character in the plate).
   * `x` is the read's first draw, if the caller made it already (see mayMisread).
   */
  apply(rng: Prng, plate: string, x = rng.float()): Misread | undefined {
    if (x >= this.cutTransposition) return undefined;
    if (x < this.cutConfusable) {
      const once = substitute(rng, plate, this.confusable);
      if (once === undefined) return undefined;
      if (rng.chance(kDoubleShare)) {
        const twice = substitute(rng, once, this.confusable, plate);
        if (twice !== undefined) return { plate: twice, kind: 1, edits: 2 };
      }
      return { plate: once, kind: 1, edits: 1 };
    }
    if (x < this.cutOther) {
      const out = substitute(rng, plate, this.other);
      return out === undefined ? undefined : { plate: out, kind: 2, edits: 1 };
    }
    if (x < this.cutIndel) {
      if (plate.length > 1 && (plate.length >= kMaxPlateLength || rng.chance(0.5))) {
        const at = rng.int(plate.length);
        return { plate: plate.slice(0, at) + plate.slice(at + 1), kind: 3, edits: 1 };
      }
      if (plate.length >= kMaxPlateLength) return undefined;
      // Half a frame edge or bolt at either end read as 1 or I, half a glyph read twice.
      if (rng.chance(0.5)) {
        const extra = rng.chance(0.5) ? '1' : 'I';
        return { plate: rng.chance(0.5) ? extra + plate : plate + extra, kind: 4, edits: 1 };
      }
      const at = rng.int(plate.length);
      return { plate: plate.slice(0, at + 1) + plate.slice(at), kind: 4, edits: 1 };
    }
    const swaps: number[] = [];
    for (let i = 0; i + 1 < plate.length; i++) if (plate[i] !== plate[i + 1]) swaps.push(i);
    if (swaps.length === 0) return undefined;
    const at = rng.pick(swaps);
    return { plate: plate.slice(0, at) + plate[at + 1] + plate[at] + plate.slice(at + 2), kind: 5, edits: 1 };
  }
}

/**
 * Replaces one character that has a look-alike in `table` by one of its look-alikes; positions where
 * `original` already differs are left alone, so a double substitution touches two characters.
 */
function substitute(rng: Prng, plate: string, table: Array<string | undefined>, original = plate): string | undefined {
  let candidates = 0;
  for (let i = 0; i < plate.length; i++) if (table[plate.charCodeAt(i)] !== undefined && plate[i] === original[i]) candidates++;
  if (candidates === 0) return undefined;
  let k = rng.int(candidates);
  for (let i = 0; i < plate.length; i++) {
    const alikes = table[plate.charCodeAt(i)];
    if (alikes === undefined || plate[i] !== original[i]) continue;
    if (k-- === 0) return plate.slice(0, i) + alikes[rng.int(alikes.length)] + plate.slice(i + 1);
  }
  return undefined;
}
