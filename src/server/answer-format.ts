/**
 * Answer formats chosen by `Accept` (API.md v1.1, `/v1/search`): JSON, MessagePack, or streamed NDJSON.
 *
 * Negotiation (RFC 9110 §12.5.1, simplified): every listed media range with its `q` (default 1); the
 * supported type with the highest q wins, ties by order of appearance. Judgement call: no Accept, `*` / `*`,
 * `application/*`, or nothing we can write gives JSON rather than 406, as most JSON APIs do, so a client
 * that sends a browser's Accept still gets an answer. `q=0` excludes a type.
 */
import { Packr } from 'msgpackr';
import { mediaFormat, type MediaFormat } from './body.js';

/** Plain maps and strings, no msgpackr records extension: any MessagePack decoder reads the answer. */
const packr = new Packr({ useRecords: false });

export function answerFormat(accept: string | string[] | undefined, offered: readonly MediaFormat[]): MediaFormat {
  const header = Array.isArray(accept) ? accept.join(',') : accept;
  if (!header) return 'json';
  let best: MediaFormat = 'json';
  let bestQ = 0;
  for (const part of header.split(',')) {
    const [range, ...params] = part.split(';');
    const format = mediaFormat(range!.trim());
    if (format === undefined || !offered.includes(format)) continue;
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split('=');
      if (k?.trim().toLowerCase() === 'q') q = Number(v);
    }
    if (Number.isFinite(q) && q > bestQ) {
      best = format;
      bestQ = q;
    }
  }
  return best;
}

/** An answer object as MessagePack. */
export function packAnswer(answer: unknown): Uint8Array {
  return packr.pack(answer);
}
