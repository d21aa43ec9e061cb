import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateReads, writeDataset, type GeneratedRead } from '../src/gen/index.js';
import { ocrMap } from '../src/model/plate.js';
import { validateRead } from '../src/model/read.js';
import { levenshtein, osaDistance } from '../src/query/reference/distance.js';

const kReads = 40_000;
const options = { reads: kReads, seed: 42 };
const dir = mkdtempSync(join(tmpdir(), 'gen-realism-'));
const file = join(dir, 'reads.ndjson');
let lines: string[];
let truth: {
  format: string; version: number; reads: number;
  misreads: Array<{ line: number; tenant: string; plate: string; truePlate: string; kind: string; edits: number }>;
  counts: Record<string, number>;
};
let reads: GeneratedRead[];

beforeAll(async () => {
  await writeDataset(options, file, { progress: false });
  lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  truth = JSON.parse(readFileSync(`${file}.truth.json`, 'utf8'));
  reads = [...generateReads(options)];
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gen output', () => {
  it('every line is a valid read with a tenant, ts in ISO with ms and Z', () => {
    expect(lines).toHaveLength(kReads);
    const bad: string[] = [];
    for (const line of lines) {
      const { tenant, ...body } = JSON.parse(line) as Record<string, unknown>;
      const v = validateRead(body);
      if (typeof tenant !== 'string' || tenant === '') bad.push(`no tenant: ${line}`);
      else if (!v.ok) bad.push(`${v.error}: ${line}`);
      else if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(body.ts as string)) bad.push(`ts: ${line}`);
      else if (v.read.plate !== body.plate) bad.push(`plate not normalised: ${line}`); // already normalised
    }
    expect(bad).toEqual([]);
  });

  it('truth lists exactly the misreads, each with the right line, plate and kind', () => {
    expect(truth.format).toBe('platesearch-gen-truth');
    expect(truth.version).toBe(2);
    const misread = reads.filter((r) => r.misread !== undefined);
    expect(truth.misreads).toHaveLength(misread.length);
    expect(truth.counts.total).toBe(misread.length);
    for (const [k, entry] of truth.misreads.entries()) {
      const g = misread[k]!;
      expect(entry.line).toBe(g.index);
      const line = JSON.parse(lines[entry.line]!) as { plate: string; tenant: string };
      expect(line.plate).toBe(entry.plate);
      expect(line.tenant).toBe(entry.tenant);
      expect(entry.truePlate).not.toBe(entry.plate);
      expect(entry.truePlate).toBe(g.misread!.truePlate);
      const d = levenshtein(entry.plate, entry.truePlate);
      switch (entry.kind) {
        case 'confusable':
          expect(ocrMap(entry.plate)).toBe(ocrMap(entry.truePlate));
          expect(d).toBe(entry.edits);
          break;
        case 'other-substitution':
          expect(ocrMap(entry.plate)).not.toBe(ocrMap(entry.truePlate));
          expect(entry.plate.length).toBe(entry.truePlate.length);
          expect(d).toBe(1);
          break;
        case 'drop':
          expect(entry.plate.length).toBe(entry.truePlate.length - 1);
          expect(d).toBe(1);
          break;
        case 'extra':
          expect(entry.plate.length).toBe(entry.truePlate.length + 1);
          expect(d).toBe(1);
          break;
        case 'transposition':
          expect(osaDistance(entry.plate, entry.truePlate)).toBe(1);
          expect(d).toBe(2);
          break;
        default:
          throw new Error(`unknown kind ${entry.kind}`);
      }
    }
  });

  it('correct reads carry their vehicle\'s true plate; plates are unique per vehicle but for the planted cloned plates', () => {
    const plateOf = new Map<number, string>();
    let conflicts = 0;
    for (const r of reads) {
      const truePlate = r.misread?.truePlate ?? r.read.plate;
      const known = plateOf.get(r.vehicle);
      if (known !== undefined && known !== truePlate) conflicts++;
      if (r.plant?.kind !== 'cloned') plateOf.set(r.vehicle, truePlate);
    }
    expect(conflicts).toBe(0);
    expect(new Set(plateOf.values()).size).toBe(plateOf.size);
  });

  it('misread rates are within tolerance of the defaults', () => {
    const share = (kind: string) => (truth.counts[kind] ?? 0) / kReads;
    // Confusable 2% drawn, slightly fewer applied (plates without a look-alike character).
    expect(share('confusable')).toBeGreaterThan(0.015);
    expect(share('confusable')).toBeLessThan(0.023);
    expect(share('drop') + share('extra')).toBeGreaterThan(0.0035);
    expect(share('drop') + share('extra')).toBeLessThan(0.0065);
    expect(share('other-substitution')).toBeGreaterThan(0.0015);
    expect(share('other-substitution')).toBeLessThan(0.0045);
    const total = share('confusable') + share('other-substitution') + share('drop') + share('extra') + share('transposition');
    expect(total).toBeGreaterThan(0.01);
    expect(total).toBeLessThan(0.035);
  });

  it('is realistic: skewed revisits, several tenants of different sizes, formats, day/night cycle', () => {
    const perVehicle = new Map<number, number>();
    const perTenant = new Map<string, number>();
    const lengths = new Set<number>();
    const regions = new Set<string>();
    const byHour = new Array<number>(24).fill(0);
    for (const r of reads) {
      perVehicle.set(r.vehicle, (perVehicle.get(r.vehicle) ?? 0) + 1);
      perTenant.set(r.tenant, (perTenant.get(r.tenant) ?? 0) + 1);
      lengths.add((r.misread?.truePlate ?? r.read.plate).length);
      if (r.read.region) regions.add(r.read.region);
      byHour[(new Date(r.read.ts).getUTCHours() + 24 - 8) % 24]!++; // PST
    }
    const counts = [...perVehicle.values()].sort((a, b) => a - b);
    const median = counts[counts.length >> 1]!;
    expect(median).toBeGreaterThanOrEqual(1);
    expect(median).toBeLessThanOrEqual(8);
    expect(counts[counts.length - 1]!).toBeGreaterThan(100); // a few vehicles are seen hundreds of times
    const tenants = [...perTenant.values()].sort((a, b) => b - a);
    expect(tenants).toHaveLength(4);
    expect(tenants[0]! / tenants[3]!).toBeGreaterThan(2);
    expect(Math.min(...lengths)).toBeLessThanOrEqual(3);
    expect(Math.max(...lengths)).toBe(10);
    for (const r of ['CA', 'TX', 'FL', 'MX', 'IN']) expect(regions).toContain(r);
    expect(byHour[8]! / byHour[3]!).toBeGreaterThan(5); // rush hour against the dead of night
  });

  it('commuters pass the same cameras at about the same time on weekdays', () => {
    // The first commuter (vehicle 0) on Monday and Tuesday mornings.
    const morning = (day: number) =>
      reads.filter((r) => r.vehicle === 0 && new Date(r.read.ts - 8 * 3600_000).getUTCDate() === day && new Date(r.read.ts - 8 * 3600_000).getUTCHours() < 12);
    const mon = morning(2).map((r) => r.read.camera);
    const tue = morning(3).map((r) => r.read.camera);
    const common = mon.filter((c) => tue.includes(c));
    expect(common.length).toBeGreaterThan(0);
  });
});
