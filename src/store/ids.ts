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

/** The id of read `seq` of tenant `ordinal`. */
export function readIdOf(ordinal: number, seq: number): string {
  return hex(ordinal, kOrdinalDigits) + hex(seq, kSeqDigits);
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
