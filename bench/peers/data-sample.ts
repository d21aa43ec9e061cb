/**
 * What the harness remembers of the data while it streams past: counts and time span per tenant, and
 * uniform reservoir samples (Vitter's algorithm R) of reads and of plates, from which the query set picks
 * concrete plates, places and times that exist in the data; and every sighting of a fixed, evenly spread
 * subset of the fleet ("tracked vehicles"), so that the plate searches can pick a typical vehicle rather
 * than the busy ones a read-weighted sample favours. Memory is bounded by the reservoir sizes and the
 * tracked vehicles, not by the number of reads.
 */
import type { Read } from '../../src/model/read.js';
import { BenchPrng } from './prng.js';

// Enough reads to find a busy plate and a busy place for every query, at any scale.
const kReadReservoir = 50_000;
// Enough plates to fill half of a 100k hot list with plates that exist in the data (the rest are made up).
const kPlateReservoir = 120_000;
// Vehicles whose sightings are all kept: enough to find a typical one with recent reads in any tenant.
const kTrackedVehicles = 4000;

/** All correctly read sightings of one tracked vehicle. */
export interface TrackedVehicle {
  plate: string;
  sightings: Array<{ tenant: string; ts: number }>;
}

export interface SampledRead {
  tenant: string;
  plate: string;
  ts: number;
  lat: number;
  lon: number;
  /** The generator says this read's plate is a misread of the vehicle's true plate. */
  misread: boolean;
}

export class DataSample {
  /** Reads seen per tenant, in order of first appearance. */
  readonly readsPerTenant = new Map<string, number>();
  minTs = Number.POSITIVE_INFINITY;
  maxTs = Number.NEGATIVE_INFINITY;
  count = 0;
  readonly reads: SampledRead[] = [];
  readonly plates: string[] = [];
  /** Tracked vehicles by fleet index. */
  readonly vehicles = new Map<number, TrackedVehicle>();
  private platesSeen = 0;
  private readonly rng: BenchPrng;
  private readonly vehicleStride: number;

  /** `fleetSize`: vehicles in the generator's fleet (indexes 0 … fleetSize − 1). */
  constructor(seed: number, fleetSize: number) {
    this.rng = new BenchPrng(seed ^ 0x5a3e);
    this.vehicleStride = Math.max(1, Math.floor(fleetSize / kTrackedVehicles));
  }

  add(tenant: string, read: Read, misread: boolean, vehicle: number): void {
    if (!misread && vehicle % this.vehicleStride === 0) {
      let v = this.vehicles.get(vehicle);
      if (!v) this.vehicles.set(vehicle, (v = { plate: read.plate, sightings: [] }));
      v.sightings.push({ tenant, ts: read.ts });
    }
    this.count1(tenant, read);
    const sampled = { tenant, plate: read.plate, ts: read.ts, lat: read.lat, lon: read.lon, misread };
    if (this.reads.length < kReadReservoir) this.reads.push(sampled);
    else {
      const at = this.rng.below(this.count);
      if (at < kReadReservoir) this.reads[at] = sampled;
    }
    this.platesSeen++;
    if (this.plates.length < kPlateReservoir) this.plates.push(read.plate);
    else {
      const at = this.rng.below(this.platesSeen);
      if (at < kPlateReservoir) this.plates[at] = read.plate;
    }
  }

  /** Counts a read without sampling it (the heavy plates' reads, bench/peers/heavy-plates.ts). */
  count1(tenant: string, read: Read): void {
    this.count++;
    this.readsPerTenant.set(tenant, (this.readsPerTenant.get(tenant) ?? 0) + 1);
    if (read.ts < this.minTs) this.minTs = read.ts;
    if (read.ts > this.maxTs) this.maxTs = read.ts;
  }

  /** Tenants, busiest first (ties by name). */
  tenantsBySize(): string[] {
    return [...this.readsPerTenant.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([t]) => t);
  }
}
