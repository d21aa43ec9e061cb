/**
 * The set of plates a fleet has issued, to keep them unique. A plate (A–Z0–9, up to 10 characters)
 * is a number in base 37 (a digit per character, 0 for none), exact in a double (37^10 < 2^53), kept
 * in an open-addressing table of doubles: one probe, mostly one cache line, per plate, where a
 * `Set<string>` of half a million plates chased string pointers and took a third of the fleet's set-up.
 */

// Load factor at most 1/2: linear probing stays short.
const kMinSlotsPerPlate = 2;

export class PlateSet {
  private slots: Float64Array;
  private size = 0;

  constructor(expected: number) {
    let n = 16;
    while (n < expected * kMinSlotsPerPlate) n *= 2;
    this.slots = new Float64Array(n);
  }

  /** Adds `plate`; false if it was there already. */
  add(plate: string): boolean {
    const code = plateCode(plate);
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let i = slot(code) & mask; ; i = (i + 1) & mask) {
      const s = slots[i]!;
      if (s === code) return false;
      if (s === 0) {
        slots[i] = code;
        if (++this.size * kMinSlotsPerPlate > slots.length) this.grow();
        return true;
      }
    }
  }

  private grow(): void {
    const old = this.slots;
    const slots = new Float64Array(old.length * 2);
    const mask = slots.length - 1;
    for (const code of old) {
      if (code === 0) continue;
      let i = slot(code) & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = code;
    }
    this.slots = slots;
  }
}

/** The base-37 number of a plate: '0'–'9' are 1–10, 'A'–'Z' 11–36. */
function plateCode(plate: string): number {
  if (plate.length === 0 || plate.length > 10) throw new Error(`plate "${plate}" must have 1 to 10 characters`);
  let code = 0;
  for (let i = 0; i < plate.length; i++) {
    const c = plate.charCodeAt(i);
    const digit = c >= 48 && c <= 57 ? c - 47 : c >= 65 && c <= 90 ? c - 54 : -1;
    if (digit < 0) throw new Error(`plate "${plate}" has a character outside A-Z0-9`);
    code = code * 37 + digit;
  }
  return code;
}

/** A 32-bit hash of a code (< 2^53): its high and low halves mixed (murmur3's finaliser constants). */
function slot(code: number): number {
  const high = Math.floor(code / 2 ** 26);
  const low = code - high * 2 ** 26;
  let h = Math.imul(low ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
