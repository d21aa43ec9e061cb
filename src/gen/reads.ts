/**
 * The in-process face of the generator: reads as objects, for the demo, benchmarks and tests that
 * want data without a file.
 */
import type { Read } from '../model/read.js';
import { ReadGenerator } from './generator.js';
import type { MisreadKind } from './ocr-errors.js';
import type { PlantRef } from './plants.js';
import type { GenOptions } from './options.js';

/** What the truth file records about a misread. */
export interface MisreadTruth {
  truePlate: string;
  kind: MisreadKind;
  /** Edits the misread made to the true plate (1 or 2). */
  edits: number;
}

export interface GeneratedRead {
  /** 0-based position in the data set (the line in `platesearch gen`'s file). */
  index: number;
  tenant: string;
  read: Read;
  /** Index of the vehicle in the generator's fleet; plates are unique, so it is also the true plate's id. */
  vehicle: number;
  /** Present when `read.plate` is a misread. */
  misread?: MisreadTruth;
  /**
   * Present when the vehicle is a planted one (plants.ts): which plant, its index in the truth file's list,
   * and for a cloned plate's twin the vehicle whose plate it carries.
   */
  plant?: PlantRef;
}

/**
 * Generates a synthetic, realistic ALPR data set in process, one read at a time, in time order.
 * Same options (same seed), same reads: this is exactly the data `platesearch gen` writes.
 *
 * @param options `reads` and `seed` are required; every other field of {@link GenOptions} has a default.
 * @example
 * for (const { tenant, read } of generateReads({ reads: 100_000, seed: 1 })) engine.ingest(tenant, read);
 */
export function* generateReads(options: Partial<GenOptions> & { reads: number; seed: number }): Generator<GeneratedRead> {
  const gen = new ReadGenerator(options);
  const { cameras } = gen.geography;
  const { fleet } = gen;
  for (const chunk of gen.chunks()) {
    for (let i = 0; i < chunk.count; i++) {
      const vehicle = chunk.vehicle[i]!;
      const labels = chunk.labels[i]!;
      const read: Read = {
        plate: chunk.misread[i] === 0 ? fleet.plate[vehicle]! : chunk.plate[i]!,
        ts: chunk.ts[i]!,
        lat: chunk.latE6[i]! / 1e6,
        lon: chunk.lonE6[i]! / 1e6,
        camera: cameras[chunk.camera[i]!]!.id,
      };
      if (labels & 1) read.region = fleet.region[vehicle]!;
      read.confidence = chunk.confidenceE3[i]! / 1000;
      if (labels & 2) {
        read.make = fleet.make[vehicle]!;
        read.color = fleet.color[vehicle]!;
      }
      const out: GeneratedRead = { index: chunk.first + i, tenant: gen.tenants[chunk.tenant[i]!]!, read, vehicle };
      const kind = ReadGenerator.misreadKind(chunk.misread[i]!);
      if (kind !== undefined) out.misread = { truePlate: fleet.plate[vehicle]!, kind, edits: chunk.edits[i]! };
      if (vehicle >= fleet.background) out.plant = gen.plants.refOf(vehicle)!;
      yield out;
    }
  }
}
