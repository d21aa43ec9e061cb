/**
 * Read ids. A read's id is assigned at append and never changes:
 *
 *   id = ordinal (4 lowercase hex digits) ‖ seq (12 lowercase hex digits)      e.g. "0002000000001a3f"
 *
 * - `ordinal` is the tenant's number, given once when the tenant is first written to (1, 2, …) and kept in
 *   its manifest, so ids are unique across tenants without coordination inside a tenant.
 * - `seq` is the tenant's append sequence, starting at 1. It never goes back: the manifest keeps a floor
 *   (`nextSeq`) that survives sealing, retention and restarts.
 * Fixed width and lowercase hex make string order equal numeric order, so within a tenant the id order
 * (the last tie-break of API.md) is the append order. 16 hex digits = 65,535 tenants × 2.8e14 reads each.
 */

export const kOrdinalDigits = 4;
export const kSeqDigits = 12;
export const kMaxOrdinal = 0xffff;
export const kMaxSeq = 2 ** 48 - 1;

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** The id of read `seq` of tenant `ordinal`: the definition (`readIdOf` is the fast path, held equal to it by tests). */
export function plainReadIdOf(ordinal: number, seq: number): string {
  return hex(ordinal, kOrdinalDigits) + hex(seq, kSeqDigits);
}

/** Lowercase hex digits as char codes. */
const kHexCodes = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/**
 * The id of read `seq` of tenant `ordinal`. Every hit makes one (a hot list's answer makes ~100,000), so
 * it is built as one flat string from 16 char codes: `toString(16)` of a double, two `padStart`s and a
 * concatenation made four strings and cost ~4× as much (measured in a loop of 83,000 ids). The seq
 * (< 2^48) is split into two 24-bit halves so every digit comes from 32-bit integer shifts.
 */
export function readIdOf(ordinal: number, seq: number): string {
  const hi = Math.floor(seq / 16777216), lo = seq - hi * 16777216;
  const h = kHexCodes;
  return String.fromCharCode(
    h[(ordinal >>> 12) & 15]!, h[(ordinal >>> 8) & 15]!, h[(ordinal >>> 4) & 15]!, h[ordinal & 15]!,
    h[(hi >>> 20) & 15]!, h[(hi >>> 16) & 15]!, h[(hi >>> 12) & 15]!, h[(hi >>> 8) & 15]!, h[(hi >>> 4) & 15]!, h[hi & 15]!,
    h[(lo >>> 20) & 15]!, h[(lo >>> 16) & 15]!, h[(lo >>> 12) & 15]!, h[(lo >>> 8) & 15]!, h[(lo >>> 4) & 15]!, h[lo & 15]!,
  );
}

/** The 4-digit prefix every id of tenant `ordinal` starts with. */
export function idPrefix(ordinal: number): string {
  return hex(ordinal, kOrdinalDigits);
}

/** Splits an id back into ordinal and seq; undefined when it is not one of ours. */
export function parseReadId(id: string): { ordinal: number; seq: number } | undefined {
  if (!/^[0-9a-f]{16}$/.test(id)) return undefined;
  return { ordinal: parseInt(id.slice(0, kOrdinalDigits), 16), seq: parseInt(id.slice(kOrdinalDigits), 16) };
}
