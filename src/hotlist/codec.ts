/**
 * The hot-list file format, `hotlists/<tenant>/<name>.hotlist`: columnar, so that a 1M-entry list is a
 * handful of bulk decodes (one split, one JSON.parse, one typed-array copy) instead of a million
 * small ones.
 *
 *   ┌────────┬─────────┬──────────────────────────────────────────────────────────┬───────┐
 *   │ "PSHL" │ version │ 5 sections, each u32 byteLength + bytes:                 │ crc32 │
 *   │ 4 B    │ u32 LE  │  meta       JSON {name, match, maxEdits, ocr, …, count}  │ u32   │
 *   │        │         │  plates     ASCII, entries joined by "\n"                │ of    │
 *   │        │         │  notes      JSON array of strings                        │ all   │
 *   │        │         │  priorities JSON array (null = none), or empty           │ before│
 *   │        │         │  expires    f64 LE per entry (Infinity = never), or empty│       │
 *   └────────┴─────────┴──────────────────────────────────────────────────────────┴───────┘
 *
 * A version mismatch is the coded error UnsupportedFormat; a bad checksum is CorruptFile.
 */
import { crc32 } from 'node:zlib';
import { CorruptFile, UnsupportedFormat } from '../errors.js';
import type { Hotlist } from './hotlist.js';

const kMagic = 0x4c485350; // "PSHL" read as u32 LE
export const kHotlistFormatVersion = 1;

interface Meta {
  name: string;
  match: 'exact' | 'fuzzy';
  maxEdits: number;
  ocr: boolean;
  transpositions: boolean;
  updated: number;
  lookbackDays?: number;
  count: number;
}

export function encodeHotlist(list: Hotlist): Buffer {
  const meta: Meta = {
    name: list.name, match: list.mode, maxEdits: list.maxEdits, ocr: list.ocr, transpositions: list.transpositions,
    updated: list.updated, count: list.plates.length,
  };
  if (list.lookbackDays !== undefined) meta.lookbackDays = list.lookbackDays;
  const sections = [
    Buffer.from(JSON.stringify(meta), 'utf8'),
    Buffer.from(list.plates.join('\n'), 'latin1'),
    Buffer.from(JSON.stringify(list.notes), 'utf8'),
    list.priorities ? Buffer.from(JSON.stringify(list.priorities.map((p) => p ?? null)), 'utf8') : Buffer.alloc(0),
    list.expires ? Buffer.from(list.expires.buffer, list.expires.byteOffset, list.expires.byteLength) : Buffer.alloc(0),
  ];
  let size = 8 + 4;
  for (const s of sections) size += 4 + s.length;
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32LE(kMagic, 0);
  out.writeUInt32LE(kHotlistFormatVersion, 4);
  let off = 8;
  for (const s of sections) {
    out.writeUInt32LE(s.length, off);
    s.copy(out, off + 4);
    off += 4 + s.length;
  }
  out.writeUInt32LE(crc32(out.subarray(0, off)), off);
  return out;
}

export function decodeHotlist(buf: Buffer, file = 'hot list'): Hotlist {
  if (buf.length < 12 || buf.readUInt32LE(0) !== kMagic) throw CorruptFile(`${file}: not a hot-list file`);
  const version = buf.readUInt32LE(4);
  if (version !== kHotlistFormatVersion) throw UnsupportedFormat(`${file}: hot-list format version ${version}`);
  const end = buf.length - 4;
  if (crc32(buf.subarray(0, end)) !== buf.readUInt32LE(end)) throw CorruptFile(`${file}: checksum mismatch`);
  const sections: Buffer[] = [];
  let off = 8;
  for (let i = 0; i < 5; i++) {
    if (off + 4 > end) throw CorruptFile(`${file}: truncated`);
    const len = buf.readUInt32LE(off);
    if (off + 4 + len > end) throw CorruptFile(`${file}: truncated`);
    sections.push(buf.subarray(off + 4, off + 4 + len));
    off += 4 + len;
  }
  const meta = JSON.parse(sections[0]!.toString('utf8')) as Meta;
  const plates = meta.count === 0 ? [] : sections[1]!.toString('latin1').split('\n');
  const notes = JSON.parse(sections[2]!.toString('utf8')) as string[];
  const priorities = sections[3]!.length === 0
    ? null
    : (JSON.parse(sections[3]!.toString('utf8')) as Array<number | string | null>).map((p) => p ?? undefined);
  let expires: Float64Array | null = null;
  if (sections[4]!.length > 0) {
    // copy: the section is not 8-byte aligned inside the file buffer
    const bytes = new Uint8Array(sections[4]!);
    expires = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
  }
  if (plates.length !== meta.count || notes.length !== meta.count
    || (priorities && priorities.length !== meta.count) || (expires && expires.length !== meta.count)) {
    throw CorruptFile(`${file}: section lengths disagree`);
  }
  const list: Hotlist = {
    name: meta.name, updated: meta.updated, mode: meta.match, maxEdits: meta.maxEdits, ocr: meta.ocr,
    transpositions: meta.transpositions, plates, notes, priorities, expires,
  };
  if (meta.lookbackDays !== undefined) list.lookbackDays = meta.lookbackDays;
  return list;
}
