/**
 * Plate and pattern normalisation, and the OCR confusion classes (API.md "A read", "ocr").
 * ASCII-only on purpose: `ß` or dotless `ı` are removed, never mapped, so every component
 * (kernels, reference, DuckDB oracle) agrees byte for byte.
 */

/** Longest plate after normalisation; also the most non-`*` characters a pattern may have. */
export const kMaxPlateLength = 10;

/** A–Z or 0–9: the plate alphabet. */
export function isPlateCode(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
}

/** The plate character a code unit normalises to (a–z upper-cased), or -1 for one normalising removes. */
export function plateCodeOf(c: number): number {
  if (c >= 97 && c <= 122) return c - 32;
  return isPlateCode(c) ? c : -1;
}

/** Upper-cases a–z and removes every character outside A–Z0–9. */
export function normalisePlate(raw: string): string {
  if (isNormalPlate(raw)) return raw; // what cameras send: no new string per read at ingest
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = plateCodeOf(raw.charCodeAt(i));
    if (c >= 0) out += String.fromCharCode(c);
  }
  return out;
}

/** A wildcard: `?` (63, one character) or `*` (42, zero or more). */
export function isWildcardCode(c: number): boolean {
  return c === 63 || c === 42;
}

/** A plate character or a wildcard: what a normal pattern is made of. */
function isPatternCode(c: number): boolean {
  return isPlateCode(c) || isWildcardCode(c);
}

function isNormalPlate(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isPlateCode(s.charCodeAt(i))) return false;
  return true;
}

/** Like normalisePlate, but keeps the wildcards `?` (one character) and `*` (zero or more). */
export function normalisePattern(raw: string): string {
  // what clients send (a hot list's 100 entries are normalised by the broad rule, the parser and the audit
  // insights, each): no new string when there is nothing to change
  if (isNormalPattern(raw)) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    const p = isWildcardCode(c) ? c : plateCodeOf(c);
    if (p >= 0) out += String.fromCharCode(p);
  }
  return out;
}

function isNormalPattern(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isPatternCode(s.charCodeAt(i))) return false;
  return true;
}

export function hasWildcard(pattern: string): boolean {
  return pattern.includes('?') || pattern.includes('*');
}

/**
 * The OCR confusion classes of API.md; each class maps to its first member.
 * `0ODQ→0`, `1IL→1`, `2Z→2`, `5S→5`, `6G→6`, `8B→8`, `UV→U`.
 */
export const kOcrClasses: readonly string[] = ['0ODQ', '1IL', '2Z', '5S', '6G', '8B', 'UV'];

const ocrTable: Uint8Array = (() => {
  const t = new Uint8Array(128);
  for (let c = 0; c < 128; c++) t[c] = c;
  for (const cls of kOcrClasses) for (const ch of cls) t[ch.charCodeAt(0)] = cls.charCodeAt(0);
  return t;
})();

/** Maps every character through the OCR classes; `?` and `*` pass through unchanged. */
export function ocrMap(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += String.fromCharCode(c < 128 ? ocrTable[c]! : c);
  }
  return out;
}

/** The byte table behind ocrMap, for kernels that map in bulk. */
export function ocrByteTable(): Uint8Array {
  return ocrTable.slice();
}
