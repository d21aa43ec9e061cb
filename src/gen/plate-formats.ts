/**
 * Plate formats: how the plates of a state or country look once normalised (A–Z0–9 only).
 * Template letters: `A` a letter as issued in sequence (I, O and Q left out, as most US states do),
 * `X` any letter, `9` any digit, `1` a digit 1–9, `*` any letter or digit; anything else is literal.
 * A format lists several templates where an issuer has several series in circulation.
 */
import { Prng } from './prng.js';

export type PlateKind = 'standard' | 'vanity' | 'foreign';

export interface PlateFormat {
  /** The `region` a read of this plate carries: US state or Canadian province code, else ISO country code. */
  region: string;
  kind: PlateKind;
  /** Templates in circulation; one is picked uniformly per vehicle. */
  templates: readonly string[];
}

// No I, O, Q: the sequential series of most US states skip them because they read as 1 and 0.
const kSequentialLetters = 'ABCDEFGHJKLMNPRSTUVWXYZ';
const kAllLetters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const kDigits = '0123456789';
const kAlnum = kAllLetters + kDigits;

/** The home state: cameras of the default geography stand in California. */
export const kHomeState: PlateFormat = { region: 'CA', kind: 'standard', templates: ['1AAA999'] };

/** Visiting US states and their current series (normalised: FL `ABC D12` is `ABCD12`). */
export const kOtherStates: readonly PlateFormat[] = [
  { region: 'NV', kind: 'standard', templates: ['99A999', '999A99'] },
  { region: 'AZ', kind: 'standard', templates: ['AAA9999'] },
  { region: 'OR', kind: 'standard', templates: ['999AAA', 'AAA999'] },
  { region: 'TX', kind: 'standard', templates: ['AAA9999'] },
  { region: 'NY', kind: 'standard', templates: ['AAA9999'] },
  { region: 'FL', kind: 'standard', templates: ['AAAA99', 'AAA999'] },
  { region: 'WA', kind: 'standard', templates: ['AAA9999'] },
  { region: 'IL', kind: 'standard', templates: ['AA99999'] },
  { region: 'NJ', kind: 'standard', templates: ['A99AAA'] },
];

/** Foreign plates, 6 to 10 characters normalised. */
export const kForeign: readonly PlateFormat[] = [
  { region: 'MX', kind: 'foreign', templates: ['XXX999X', 'XX9999X'] }, // Baja California series
  { region: 'ON', kind: 'foreign', templates: ['XXXX999'] }, // Ontario
  { region: 'BC', kind: 'foreign', templates: ['XX999X', '999XX9'] }, // British Columbia
  { region: 'DE', kind: 'foreign', templates: ['XXX999', 'XXX9999', 'XXXX999', 'XXXXX99'] }, // `B AB 1234`, `MYK AB 123`
  { region: 'GB', kind: 'foreign', templates: ['XX99XXX'] },
  { region: 'BR', kind: 'foreign', templates: ['XXX9X99'] }, // Mercosur
  { region: 'IN', kind: 'foreign', templates: ['XX99XX9999'] }, // `MH 12 AB 1234`: the 10-character case
];

/** Fills one template. */
export function fillTemplate(rng: Prng, template: string): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const t = template[i]!;
    switch (t) {
      case 'A': out += kSequentialLetters[rng.int(kSequentialLetters.length)]; break;
      case 'X': out += kAllLetters[rng.int(kAllLetters.length)]; break;
      case '9': out += kDigits[rng.int(10)]; break;
      case '1': out += kDigits[1 + rng.int(9)]; break;
      case '*': out += kAlnum[rng.int(kAlnum.length)]; break;
      default: out += t;
    }
  }
  return out;
}

// Vanity lengths 2–7, weighted towards the long end as issued (most owners use the room they have).
const kVanityLengthWeights = [0, 0, 1, 2, 4, 7, 9, 10];

/** A vanity plate: 2–7 characters, mostly letters, sometimes a digit standing in for a word ("GR8", "2FAST"). */
export function makeVanityPlate(rng: Prng): string {
  let total = 0;
  for (const w of kVanityLengthWeights) total += w;
  let x = rng.float() * total;
  let length = 2;
  for (let l = 0; l < kVanityLengthWeights.length; l++) {
    x -= kVanityLengthWeights[l]!;
    if (x < 0) { length = l; break; }
  }
  let out = '';
  for (let i = 0; i < length; i++) {
    out += rng.chance(0.85) ? kAllLetters[rng.int(26)] : kDigits[rng.int(10)];
  }
  return out;
}

/** A plate of `format`; vanity formats ignore their templates. */
export function makePlate(rng: Prng, format: PlateFormat): string {
  if (format.kind === 'vanity') return makeVanityPlate(rng);
  return fillTemplate(rng, format.templates[rng.int(format.templates.length)]!);
}
