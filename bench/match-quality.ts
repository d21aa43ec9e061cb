/**
 * Match quality of every plate-matching mode, measured on `platesearch gen` data against its truth.
 *
 *   npm run bench:quality -- [--reads 1000000] [--seed 1] [--targets 300]
 *
 * Two measurements, both with the reference semantics (`plateDistance`, src/query/reference):
 * 1. Recall, exactly, over the whole data set: a correct read carries its vehicle's true plate and is
 *    found by every mode; so recall is decided by the misreads, and each misread is checked once per
 *    mode (query = its vehicle's true plate, or the witness pattern built from it).
 * 2. Precision, on a seeded sample of target vehicles: each mode's query is run against every distinct
 *    plate of the data set, and the reads of other vehicles it drags in are counted.
 * A cheap lower bound prunes (2) without judging any match: bag distance (characters in one plate
 * and not the other) never exceeds Levenshtein or OSA distance, and an anchored pattern's literal
 * prefix must begin the plate. Every candidate that passes is judged by plateDistance.
 *
 * "OCR+X" rows evaluate a proposed extra class X: both sides are first folded through X, then
 * handed to plateDistance with `ocr: true`, so API.md's classes still apply on top.
 */
import { generateReads } from '../src/gen/index.js';
import { hash32, Prng } from '../src/gen/prng.js';
import type { PlateMatch } from '../src/model/query.js';
import { kOcrClasses, ocrMap } from '../src/model/plate.js';
import { plateDistance } from '../src/query/reference/search.js';

interface Mode {
  name: string;
  /** The query an investigator would type for a vehicle whose true plate is `plate`. */
  query(plate: string, vehicle: number): PlateMatch;
  /** Extra folding of both sides before plateDistance (proposed classes), else identity. */
  fold?: (s: string) => string;
  /** Edits allowed, for the bag-distance prune (undefined: wildcard, pruned by prefix). */
  k?: number;
}

const exact = (pattern: string): PlateMatch => ({ pattern, mode: 'exact', maxEdits: 0, ocr: false, transpositions: false });
const fuzzy = (pattern: string, k: number, ocr: boolean, transpositions: boolean): PlateMatch =>
  ({ pattern, mode: 'fuzzy', maxEdits: k, ocr, transpositions });
const ocrExact = (pattern: string): PlateMatch => ({ pattern, mode: 'exact', maxEdits: 0, ocr: true, transpositions: false });

/** Witness: "starts with 7AB, ends with 12" → `7AB*12` (first 3 and last 2 characters, length unsure). */
function witnessStar(plate: string): string {
  if (plate.length <= 4) return plate.slice(0, 1) + '*';
  return plate.slice(0, 3) + '*' + plate.slice(-2);
}
/** Witness: knows the length, misses two characters (never the first) → `7A?C1?3`. */
function witnessTwoUnknown(plate: string, vehicle: number): string {
  if (plate.length < 3) return plate;
  const chars = plate.split('');
  const a = 1 + (hash32(0x3a11, vehicle) % (plate.length - 1));
  let b = 1 + (hash32(0x3a12, vehicle) % (plate.length - 1));
  if (b === a) b = a === plate.length - 1 ? 1 : a + 1;
  chars[a] = '?';
  chars[b] = '?';
  return chars.join('');
}

/**
 * Folds the proposed classes into API.md's: every member goes to the representative that ocrMap gives
 * the member already in an API class (`38` → `8`, joining 8/B; `CG` → `6`, joining 6/G), so that
 * ocrMap, applied afterwards by plateDistance, sees one class.
 */
function folder(extra: string): (s: string) => string {
  const table = new Map<string, string>();
  for (const cls of extra.split(',')) {
    const members = [...cls];
    const inApiClass = members.find((c) => kOcrClasses.some((k) => k.includes(c)));
    const rep = inApiClass === undefined ? members[0]! : ocrMap(inApiClass);
    for (const ch of members) table.set(ch, rep);
  }
  return (s) => {
    let out = '';
    for (const ch of s) out += table.get(ch) ?? ch;
    return out;
  };
}

// Look-alikes outside API.md's classes that gen injects (src/gen/ocr-errors.ts), as candidate additions.
const kCandidates = ['7T', '4A', 'HMN', 'EF', 'KX', '38', 'PR', 'CG'];

function modes(): Mode[] {
  const list: Mode[] = [
    { name: 'exact', query: exact, k: 0 },
    { name: 'wildcard `ABC*12` (witness)', query: (p) => ({ pattern: witnessStar(p), mode: 'wildcard', maxEdits: 0, ocr: false, transpositions: false }) },
    { name: 'wildcard `A?C1?3` (2 unknown)', query: (p, v) => ({ pattern: witnessTwoUnknown(p, v), mode: 'wildcard', maxEdits: 0, ocr: false, transpositions: false }) },
    { name: 'wildcard `ABC*12` + ocr', query: (p) => ({ pattern: witnessStar(p), mode: 'wildcard', maxEdits: 0, ocr: true, transpositions: false }) },
  ];
  for (const k of [1, 2]) {
    for (const t of [false, true]) list.push({ name: `fuzzy k=${k}${t ? ' +transpositions' : ''}`, query: (p) => fuzzy(p, k, false, t), k });
  }
  list.push({ name: 'ocr k=0 (exact)', query: ocrExact, k: 0 });
  for (const k of [1, 2]) {
    for (const t of [false, true]) list.push({ name: `ocr k=${k}${t ? ' +transpositions' : ''}`, query: (p) => fuzzy(p, k, true, t), k });
  }
  for (const c of kCandidates) list.push({ name: `ocr+${c} k=0`, query: ocrExact, fold: folder(c), k: 0 });
  list.push({ name: `ocr+all8 k=0`, query: ocrExact, fold: folder(kCandidates.join(',')), k: 0 });
  list.push({ name: `ocr+all8 k=1`, query: (p) => fuzzy(p, 1, true, false), fold: folder(kCandidates.join(',')), k: 1 });
  return list;
}

function judge(mode: Mode, query: PlateMatch, plate: string): boolean {
  if (mode.fold) return plateDistance({ ...query, pattern: mode.fold(query.pattern) }, mode.fold(plate)) >= 0;
  return plateDistance(query, plate) >= 0;
}

// --- bag distance prune ---
function counts(s: string): Uint8Array {
  const c = new Uint8Array(128);
  for (let i = 0; i < s.length; i++) c[s.charCodeAt(i)]!++;
  return c;
}
/** max(chars of a not in b, chars of b not in a): a lower bound of Levenshtein and OSA distance. */
const kPlateChars = Array.from('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', (c) => c.charCodeAt(0));
function bagDistance(a: Uint8Array, b: Uint8Array): number {
  let plus = 0;
  let minus = 0;
  for (const ch of kPlateChars) {
    const d = a[ch]! - b[ch]!;
    if (d > 0) plus += d;
    else minus -= d;
  }
  return Math.max(plus, minus);
}

function parseArgs(argv: string[]): { reads: number; seed: number; targets: number } {
  const out = { reads: 1_000_000, seed: 1, targets: 300 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]!.replace(/^--/, '') as keyof typeof out;
    const value = Number(argv[i + 1]);
    if (!(key in out) || !Number.isInteger(value) || value < 0) throw new Error(`bad argument ${argv[i]} ${argv[i + 1] ?? ''}`);
    out[key] = value;
  }
  return out;
}

function pct(x: number): string {
  return (100 * x).toFixed(2) + ' %';
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  // Vehicles, their reads and true plates; distinct observed plates → reads per vehicle.
  const truePlate: string[] = [];
  const readsOf: number[] = [];
  const misreads: Array<{ vehicle: number; plate: string; kind: string }> = [];
  const byPlate = new Map<string, Map<number, number>>();
  for (const g of generateReads({ reads: args.reads, seed: args.seed })) {
    // a planted cloned plate's twin carries its original's plate: for plate matching it is that plate's reads
    const vehicle = g.plant?.original ?? g.vehicle;
    truePlate[vehicle] = g.misread?.truePlate ?? g.read.plate;
    readsOf[vehicle] = (readsOf[vehicle] ?? 0) + 1;
    if (g.misread) misreads.push({ vehicle, plate: g.read.plate, kind: g.misread.kind });
    let m = byPlate.get(g.read.plate);
    if (m === undefined) byPlate.set(g.read.plate, (m = new Map()));
    m.set(vehicle, (m.get(vehicle) ?? 0) + 1);
  }
  const all = modes();
  const kinds = ['confusable', 'other-substitution', 'drop', 'extra', 'transposition'];
  const misreadsByKind = new Map(kinds.map((k) => [k, misreads.filter((m) => m.kind === k).length]));

  // 1. Recall over the whole data set.
  const recall = all.map((mode) => {
    const found = new Map(kinds.map((k) => [k, 0]));
    let foundAll = 0;
    let correctMissed = 0;
    for (const m of misreads) {
      if (judge(mode, mode.query(truePlate[m.vehicle]!, m.vehicle), m.plate)) {
        found.set(m.kind, found.get(m.kind)! + 1);
        foundAll++;
      }
    }
    // Correct reads match their own true plate under every mode; checked, not assumed.
    for (let v = 0; v < truePlate.length; v++) {
      if (truePlate[v] !== undefined && !judge(mode, mode.query(truePlate[v]!, v), truePlate[v]!)) correctMissed++;
    }
    return { foundAll, found, correctMissed };
  });

  // 2. Precision on sampled targets.
  const rng = new Prng(args.seed, 99);
  const vehicles = truePlate.map((p, v) => (p !== undefined && readsOf[v]! >= 2 ? v : -1)).filter((v) => v >= 0);
  const targets: number[] = [];
  for (let i = 0; i < args.targets && vehicles.length > 0; i++) targets.push(vehicles[rng.int(vehicles.length)]!);
  const plates = [...byPlate.keys()];
  const ocrPlates = plates.map(ocrMap);
  const precision = all.map((mode) => {
    const fold = mode.fold ?? ((s: string) => s);
    // Plates as the mode compares them (OCR classes, then proposed classes), and their character counts.
    const keyed = (ocr: boolean) => (ocr ? ocrPlates : plates).map(fold);
    let keys: string[] | undefined;
    let keyCounts: Uint8Array[] | undefined;
    let own = 0;
    let otherReads = 0;
    let otherVehicles = 0;
    let queriesWithOthers = 0;
    let maxOthers = 0;
    for (const v of targets) {
      const query = mode.query(truePlate[v]!, v);
      keys ??= keyed(query.ocr);
      const qs = fold(query.ocr ? ocrMap(query.pattern) : query.pattern);
      if (mode.k !== undefined) keyCounts ??= keys.map(counts);
      const qCounts = counts(qs);
      const prefix = query.mode === 'wildcard' ? qs.split(/[?*]/)[0]! : '';
      let others = 0;
      for (let j = 0; j < plates.length; j++) {
        const key = keys[j]!;
        if (mode.k !== undefined) {
          if (Math.abs(key.length - qs.length) > mode.k) continue;
          if (bagDistance(qCounts, keyCounts![j]!) > mode.k) continue;
        } else if (!key.startsWith(prefix)) {
          continue;
        }
        const plate = plates[j]!;
        if (!judge(mode, query, plate)) continue;
        for (const [vehicle, n] of byPlate.get(plate)!) {
          if (vehicle === v) own += n;
          else {
            otherReads += n;
            others++;
          }
        }
      }
      otherVehicles += others;
      if (others > 0) queriesWithOthers++;
      maxOthers = Math.max(maxOthers, others);
    }
    return { own, otherReads, otherVehicles, queriesWithOthers, maxOthers };
  });

  const seconds = (performance.now() - started) / 1000;
  const out: string[] = [];
  out.push(`data: ${args.reads} reads, seed ${args.seed}, ${truePlate.filter((p) => p !== undefined).length} vehicles seen, ` +
    `${byPlate.size} distinct plates as read, ${misreads.length} misreads (${pct(misreads.length / args.reads)} of reads: ` +
    kinds.map((k) => `${k} ${misreadsByKind.get(k)}`).join(', ') + `); ${targets.length} target vehicles; ${seconds.toFixed(0)} s`);
  out.push('');
  out.push('| mode | recall, all reads | recall, misreads | confusable | other-subst. | drop | extra | transposition | precision (targets) | other vehicles / query | queries with others |');
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  all.forEach((mode, i) => {
    const r = recall[i]!;
    const p = precision[i]!;
    const recallAll = (args.reads - (misreads.length - r.foundAll)) / args.reads;
    const byKind = kinds.map((k) => pct(r.found.get(k)! / Math.max(1, misreadsByKind.get(k)!)));
    out.push(`| ${mode.name} | ${pct(recallAll)} | ${pct(r.foundAll / misreads.length)} | ${byKind.join(' | ')} | ` +
      `${pct(p.own / Math.max(1, p.own + p.otherReads))} | ${(p.otherVehicles / targets.length).toFixed(2)} (max ${p.maxOthers}) | ` +
      `${pct(p.queriesWithOthers / targets.length)} |${r.correctMissed ? ` ⚠ ${r.correctMissed} true plates not matched by their own query` : ''}`);
  });
  process.stdout.write(out.join('\n') + '\n');
}

main();
