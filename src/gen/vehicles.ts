/**
 * The fleet: every vehicle the data set will ever see, chosen up front so that memory depends on
 * the fleet size, never on the number of reads. Plates are unique within a fleet, so a true plate
 * names one vehicle (the match-quality report relies on it), with one planted exception: the twin of a
 * cloned plate (plants.ts) carries the plate of the vehicle it copies, and the truth file names both.
 *
 * Revisit classes (each a parameter of GenOptions):
 * - commuters: twice a weekday over the same fixed cameras, out in the morning and back in the evening;
 * - frequent (taxis, delivery vans, patrol-area residents): a tiny share of vehicles, seen hundreds of times;
 * - regular: a fifth of vehicles, seen about a dozen times;
 * - occasional: the rest, seen a few times.
 *
 * Layout: vehicle indexes [0, commuters) are commuters, then frequent, regular, occasional: the
 * `background` vehicles that traffic draws from. Planted vehicles (plants.ts: convoy followers, cloned-plate
 * twins, frequent visitors) come after them, [background, size), and are read only as their plant says.
 */
import { Geography, metresBetween } from './geography.js';
import { kForeign, kHomeState, kOtherStates, makePlate, type PlateFormat } from './plate-formats.js';
import { PlateSet } from './plate-set.js';
import { Prng, WeightedTable } from './prng.js';
import {
  kEveningMean, kEveningRange, kEveningSigma, kMaxHopMs, kMorningMean, kMorningRange, kMorningSigma, kMsPerMinute,
} from './traffic.js';

/** Registrations in the US by make, roughly by market share. */
const kMakes = new WeightedTable<string>([
  ['TOYOTA', 15], ['FORD', 13], ['CHEVROLET', 11], ['HONDA', 9], ['NISSAN', 6], ['HYUNDAI', 5], ['KIA', 5],
  ['TESLA', 4], ['JEEP', 4], ['SUBARU', 4], ['RAM', 3], ['GMC', 3], ['BMW', 3], ['MERCEDES-BENZ', 3],
  ['VOLKSWAGEN', 2], ['MAZDA', 2], ['LEXUS', 2], ['DODGE', 2], ['AUDI', 1], ['VOLVO', 1],
]);
/** Car colours by share of the US fleet: greyscale dominates. */
const kColors = new WeightedTable<string>([
  ['WHITE', 25], ['BLACK', 22], ['GRAY', 18], ['SILVER', 10], ['BLUE', 9], ['RED', 9],
  ['GREEN', 2], ['BROWN', 1], ['BEIGE', 1], ['YELLOW', 1], ['ORANGE', 1], ['GOLD', 1],
]);

export interface FleetOptions {
  vehicles: number;
  commuters: number;
  /** Shares of vehicles (not commuters) in the frequent and regular classes; the rest are occasional. */
  frequentShare: number;
  regularShare: number;
  vanityShare: number;
  outOfStateShare: number;
  foreignShare: number;
  /** Cities a commuter's home and work lie in are the same with this probability. */
  sameCityCommuteShare: number;
}

export class Fleet {
  /** Vehicles of the background traffic, [0, background); planted ones follow (addVehicle). */
  readonly background: number;
  readonly plate: string[] = [];
  readonly region: string[] = [];
  readonly make: string[] = [];
  readonly color: string[] = [];
  readonly homeCity: Int32Array;
  readonly commuters: number;
  readonly frequent: number;
  readonly regular: number;

  /** Commuter c's route: cameras routeCameras[routeStart[c] .. routeStart[c + 1]), in morning order. */
  readonly routeStart: Int32Array;
  readonly routeCameras: Int32Array;
  /** Usual departure, ms of the local day, and time between consecutive cameras of the route. */
  readonly morningMs: Float64Array;
  readonly eveningMs: Float64Array;
  readonly hopMs: Float64Array;
  /**
   * Commuter c's time from its first route camera to each of its cameras (parallel to routeCameras), in the
   * morning order: at least hopMs per hop, and never faster than kMaxCommuteSpeedMps between two cameras,
   * so that no commuter covers a distance faster than traffic allows (the cloned-plate analysis would list it).
   */
  readonly routeOffsetMs: Float64Array;

  private readonly seen: PlateSet;
  private readonly formatTable: WeightedTable<PlateFormat | 'vanity'>;

  /** All vehicles, background and planted. */
  get size(): number {
    return this.plate.length;
  }

  constructor(rng: Prng, geography: Geography, options: FleetOptions) {
    const n = options.vehicles;
    this.background = n;
    this.commuters = Math.min(options.commuters, n);
    const rest = n - this.commuters;
    this.frequent = rest > 0 ? Math.max(1, Math.round(rest * options.frequentShare)) : 0;
    this.regular = Math.min(rest - this.frequent, Math.round(rest * options.regularShare));
    this.homeCity = new Int32Array(n);

    const formatTable = new WeightedTable<PlateFormat | 'vanity'>([
      [kHomeState, 1 - options.vanityShare - options.outOfStateShare - options.foreignShare],
      ['vanity', options.vanityShare],
      ...kOtherStates.map((f) => [f, options.outOfStateShare / kOtherStates.length] as const),
      ...kForeign.map((f) => [f, options.foreignShare / kForeign.length] as const),
    ]);
    this.formatTable = formatTable;
    this.seen = new PlateSet(n);
    for (let v = 0; v < n; v++) {
      this.addVehicle(rng);
      this.homeCity[v] = geography.cityTable.draw(rng);
    }

    const c = this.commuters;
    this.routeStart = new Int32Array(c + 1);
    this.morningMs = new Float64Array(c);
    this.eveningMs = new Float64Array(c);
    this.hopMs = new Float64Array(c);
    const route: number[] = [];
    for (let k = 0; k < c; k++) {
      this.routeStart[k] = route.length;
      const home = this.homeCity[k]!;
      const work = rng.chance(options.sameCityCommuteShare) ? home : geography.cityTable.draw(rng);
      // 2–4 cameras: one or two near home, the rest near work.
      const stops = 2 + rng.int(3);
      const homeStops = work === home ? stops : Math.max(1, stops >> 1);
      for (let s = 0; s < stops; s++) {
        let cam = geography.drawCamera(rng, s < homeStops ? home : work);
        for (let tries = 0; tries < 4 && onRoute(route, this.routeStart[k]!, cam); tries++) {
          cam = geography.drawCamera(rng, s < homeStops ? home : work);
        }
        route.push(cam);
      }
      this.morningMs[k] = clampedNormal(rng, kMorningMean, kMorningSigma, kMorningRange);
      this.eveningMs[k] = clampedNormal(rng, kEveningMean, kEveningSigma, kEveningRange);
      this.hopMs[k] = 2 * kMsPerMinute + rng.float() * (kMaxHopMs - 3 * kMsPerMinute);
    }
    this.routeStart[c] = route.length;
    this.routeCameras = Int32Array.from(route);
    this.routeOffsetMs = new Float64Array(route.length);
    for (let k = 0; k < c; k++) {
      const first = this.routeStart[k]!;
      for (let s = first + 1; s < this.routeStart[k + 1]!; s++) {
        this.routeOffsetMs[s] = this.routeOffsetMs[s - 1]! + driveMs(geography, route[s - 1]!, route[s]!, this.hopMs[k]!);
      }
    }
  }

  /**
   * Adds a vehicle: a new unique plate drawn as the fleet's are, or (a cloned plate's twin) the given
   * plate and region; make and colour are drawn. Returns its index.
   */
  addVehicle(rng: Prng, copy?: { plate: string; region: string }): number {
    let plate: string;
    let region: string;
    if (copy) {
      plate = copy.plate;
      region = copy.region;
    } else {
      let format = this.formatTable.draw(rng);
      if (format === 'vanity') format = kVanity;
      plate = makePlate(rng, format);
      // Unique plates; a crowded format (short vanity plates) falls back to the home state's series.
      for (let tries = 0; !this.seen.add(plate); tries++) {
        if (tries > 8) format = kHomeState;
        plate = makePlate(rng, format);
      }
      region = format.region;
    }
    this.plate.push(plate);
    this.region.push(region);
    this.make.push(kMakes.draw(rng));
    this.color.push(kColors.draw(rng));
    return this.plate.length - 1;
  }

  /** Mean number of cameras on a commuter route. */
  static readonly kMeanRouteLength = 3;
}

const kVanity: PlateFormat = { region: kHomeState.region, kind: 'vanity', templates: [] };

/** Slowest average speed of a car between two cameras (freeway with traffic): 80 km/h. */
export const kMaxCommuteSpeedMps = 80 / 3.6;
/** Slack added to a distance involving a patrol-car camera, which is anywhere on its loop (≤ a city's span). */
const kMobileSlackM = 10_000;

/**
 * Time to drive from camera a to camera b: the route's usual hop, or the distance at kMaxCommuteSpeedMps,
 * whichever is longer (a hop between two cities takes the time the road needs).
 */
export function driveMs(geography: Geography, a: number, b: number, hopMs: number): number {
  const ca = geography.cameras[a]!, cb = geography.cameras[b]!;
  const d = metresBetween(ca.lat, ca.lon, cb.lat, cb.lon) + (ca.mobile || cb.mobile ? kMobileSlackM : 0);
  return Math.max(hopMs, (d / kMaxCommuteSpeedMps) * 1000);
}

/** Whether `camera` is among route[from…] (the route being drawn: a few entries, where searching the
 * whole array from its end made building the fleet quadratic in commuters). */
function onRoute(route: readonly number[], from: number, camera: number): boolean {
  for (let i = from; i < route.length; i++) if (route[i] === camera) return true;
  return false;
}

function clampedNormal(rng: Prng, mean: number, sigma: number, [lo, hi]: readonly [number, number]): number {
  return Math.round(Math.min(hi, Math.max(lo, mean + sigma * rng.normal())));
}
