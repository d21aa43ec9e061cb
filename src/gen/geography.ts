/**
 * Where reads happen: cities (each owned by one tenant), fixed cameras clustered around city
 * centres, and mobile (patrol car) cameras driving a closed loop through their city.
 *
 * Positions are in degrees; distances in metres are turned into degrees with the local
 * equirectangular approximation (1° of latitude ≈ 111,320 m), exact enough at city scale.
 */
import { Prng, WeightedTable } from './prng.js';

export interface CitySite {
  name: string;
  lat: number;
  lon: number;
  /** Radius within which its cameras stand. */
  radiusM: number;
}

/** San Francisco Bay Area: one metro, so commuters cross between agencies as they do in life. */
export const kCitySites: readonly CitySite[] = [
  { name: 'san-francisco', lat: 37.7749, lon: -122.4194, radiusM: 5000 },
  { name: 'oakland', lat: 37.8044, lon: -122.2712, radiusM: 5000 },
  { name: 'san-jose', lat: 37.3382, lon: -121.8863, radiusM: 7000 },
  { name: 'fremont', lat: 37.5485, lon: -121.9886, radiusM: 5000 },
  { name: 'hayward', lat: 37.6688, lon: -122.0808, radiusM: 4000 },
  { name: 'berkeley', lat: 37.8715, lon: -122.273, radiusM: 3000 },
  { name: 'palo-alto', lat: 37.4419, lon: -122.143, radiusM: 3000 },
  { name: 'walnut-creek', lat: 37.9101, lon: -122.0652, radiusM: 3000 },
];

const kMetresPerDegree = 111_320;
// Patrol cars average about 30 km/h on their beat, stops included.
const kPatrolSpeedMps = 8.3;
// Waypoints of a patrol loop: enough corners to look like a beat, few enough to find the leg fast.
const kPatrolWaypoints = 6;

export interface Camera {
  id: string;
  tenant: number;
  city: number;
  mobile: boolean;
  /** Fixed position, or the first waypoint of a mobile camera's loop. */
  lat: number;
  lon: number;
}

interface PatrolLoop {
  /** Waypoints as lat, lon pairs; the loop closes back on the first. */
  points: Float64Array;
  /** Cumulative length in metres at each waypoint; last entry is the loop length. */
  cumulativeM: Float64Array;
  /** Where on the loop the car is at ts = 0, in metres. */
  offsetM: number;
}

export interface City extends CitySite {
  tenant: number;
  /** Indexes into Geography.cameras. */
  cameras: number[];
}

export interface GeographyOptions {
  tenants: readonly string[];
  fixedCameras: number;
  mobileCameras: number;
}

/**
 * Tenants get Zipf-like sizes (1, 1/2, 1/3, …): the first is the big city department, the last a
 * small sheriff's office. Size sets their number of cameras, hence their share of reads.
 */
export function tenantWeights(count: number): number[] {
  const w: number[] = [];
  for (let t = 0; t < count; t++) w.push(1 / (t + 1));
  return w;
}

function distributeCounts(total: number, weights: readonly number[], minimum: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const out = weights.map((w) => Math.max(minimum, Math.floor((total * w) / sum)));
  let rest = total - out.reduce((a, b) => a + b, 0);
  for (let i = 0; rest > 0; i = (i + 1) % out.length, rest--) out[i]!++;
  return out;
}

export class Geography {
  readonly tenants: readonly string[];
  readonly cities: City[] = [];
  readonly cameras: Camera[] = [];
  /** Draws a city with probability proportional to its cameras (where traffic is, cameras are). */
  readonly cityTable: WeightedTable<number>;
  private readonly cameraTables: WeightedTable<number>[] = [];
  private readonly loops: Array<PatrolLoop | undefined> = [];

  constructor(rng: Prng, options: GeographyOptions) {
    this.tenants = options.tenants;
    const tenantCount = options.tenants.length;
    // Every tenant owns at least one city; with fewer tenants than sites the big ones own several.
    const cityCount = Math.max(tenantCount, kCitySites.length);
    const weights = tenantWeights(tenantCount);
    const citiesOf: number[][] = weights.map(() => []);
    for (let i = 0; i < cityCount; i++) {
      const site = kCitySites[i % kCitySites.length]!;
      // Past the list, mirror sites northwards (0.25° ≈ 28 km per round) so they stay distinct.
      const shift = Math.floor(i / kCitySites.length) * 0.25;
      const tenant = i < tenantCount ? i : this.biggestPerCity(weights, citiesOf);
      citiesOf[tenant]!.push(i);
      this.cities.push({ ...site, name: shift === 0 ? site.name : `${site.name}-${i}`, lat: site.lat + shift, tenant, cameras: [] });
    }
    const fixedPerTenant = distributeCounts(options.fixedCameras, weights, 1);
    const mobilePerTenant = distributeCounts(options.mobileCameras, weights, 0);
    for (let t = 0; t < tenantCount; t++) {
      const cities = citiesOf[t]!;
      const fixed = distributeCounts(fixedPerTenant[t]!, cities.map(() => 1), 1);
      const mobile = distributeCounts(mobilePerTenant[t]!, cities.map(() => 1), 0);
      cities.forEach((c, k) => {
        for (let n = 0; n < fixed[k]!; n++) this.addFixed(rng, c);
        for (let n = 0; n < mobile[k]!; n++) this.addMobile(rng, c);
      });
    }
    this.cityTable = new WeightedTable(this.cities.map((c, i) => [i, c.cameras.length] as const));
    for (const city of this.cities) {
      // Busy arterials see many times the traffic of side streets: log-normal camera busyness.
      this.cameraTables.push(new WeightedTable(city.cameras.map((cam) => [cam, Math.exp(0.8 * rng.normal())] as const)));
    }
  }

  /** The tenant that owns the fewest cities relative to its weight gets the next one. */
  private biggestPerCity(weights: readonly number[], citiesOf: readonly number[][]): number {
    let best = 0;
    for (let t = 1; t < weights.length; t++) {
      if (weights[t]! / (citiesOf[t]!.length + 1) > weights[best]! / (citiesOf[best]!.length + 1)) best = t;
    }
    return best;
  }

  private offset(rng: Prng, city: City, spreadM: number): [number, number] {
    const dLat = (rng.normal() * spreadM) / kMetresPerDegree;
    const dLon = (rng.normal() * spreadM) / (kMetresPerDegree * Math.cos((city.lat * Math.PI) / 180));
    return [city.lat + dLat, city.lon + dLon];
  }

  private addFixed(rng: Prng, cityIndex: number): void {
    const city = this.cities[cityIndex]!;
    const [lat, lon] = this.offset(rng, city, city.radiusM / 2);
    const id = `${this.tenants[city.tenant]}-fx-${String(this.cameras.length).padStart(4, '0')}`;
    city.cameras.push(this.cameras.length);
    this.cameras.push({ id, tenant: city.tenant, city: cityIndex, mobile: false, lat, lon });
    this.loops.push(undefined);
  }

  private addMobile(rng: Prng, cityIndex: number): void {
    const city = this.cities[cityIndex]!;
    const points = new Float64Array(kPatrolWaypoints * 2);
    const cumulativeM = new Float64Array(kPatrolWaypoints + 1);
    for (let p = 0; p < kPatrolWaypoints; p++) {
      const [lat, lon] = this.offset(rng, city, city.radiusM / 2);
      points[2 * p] = lat;
      points[2 * p + 1] = lon;
    }
    for (let p = 1; p <= kPatrolWaypoints; p++) {
      const q = p % kPatrolWaypoints;
      cumulativeM[p] = cumulativeM[p - 1]! + metresBetween(points[2 * (p - 1)]!, points[2 * (p - 1) + 1]!, points[2 * q]!, points[2 * q + 1]!);
    }
    const id = `${this.tenants[city.tenant]}-mb-${String(this.cameras.length).padStart(4, '0')}`;
    city.cameras.push(this.cameras.length);
    this.cameras.push({ id, tenant: city.tenant, city: cityIndex, mobile: true, lat: points[0]!, lon: points[1]! });
    this.loops.push({ points, cumulativeM, offsetM: rng.float() * cumulativeM[kPatrolWaypoints]! });
  }

  /** A camera of `city`, drawn by busyness. */
  drawCamera(rng: Prng, city: number): number {
    return this.cameraOf(city, rng.float());
  }

  /** The camera of `city` a draw of `x` (uniform in [0, 1)) picks: drawCamera with its draw made earlier. */
  cameraOf(city: number, x: number): number {
    return this.cameraTables[city]!.items[this.cameraTables[city]!.indexOf(x)]!;
  }

  /**
   * Where `camera` is at `ts` (epoch ms), written into out[0] = lat, out[1] = lon.
   * A mobile camera drives its loop at patrol speed; a fixed one never moves.
   */
  position(camera: number, ts: number, out: Float64Array): void {
    const loop = this.loops[camera];
    if (loop === undefined) {
      const cam = this.cameras[camera]!;
      out[0] = cam.lat;
      out[1] = cam.lon;
      return;
    }
    const length = loop.cumulativeM[kPatrolWaypoints]!;
    const along = (loop.offsetM + (ts / 1000) * kPatrolSpeedMps) % length;
    let leg = 0;
    while (loop.cumulativeM[leg + 1]! < along) leg++;
    const f = (along - loop.cumulativeM[leg]!) / (loop.cumulativeM[leg + 1]! - loop.cumulativeM[leg]! || 1);
    const next = (leg + 1) % kPatrolWaypoints;
    out[0] = loop.points[2 * leg]! + f * (loop.points[2 * next]! - loop.points[2 * leg]!);
    out[1] = loop.points[2 * leg + 1]! + f * (loop.points[2 * next + 1]! - loop.points[2 * leg + 1]!);
  }
}

/** Equirectangular distance in metres; exact enough within a metro area. */
export function metresBetween(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const x = (lon2 - lon1) * Math.cos((((lat1 + lat2) / 2) * Math.PI) / 180);
  const y = lat2 - lat1;
  return Math.sqrt(x * x + y * y) * kMetresPerDegree;
}

/** Adds Gaussian jitter of `sigmaM` metres to out[0], out[1] (lat, lon). */
export function jitter(rng: Prng, sigmaM: number, out: Float64Array): void {
  out[0] = out[0]! + (rng.normal() * sigmaM) / kMetresPerDegree;
  out[1] = out[1]! + (rng.normal() * sigmaM) / (kMetresPerDegree * Math.cos((out[0]! * Math.PI) / 180));
}
