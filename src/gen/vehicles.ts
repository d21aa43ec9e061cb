/**
 * The fleet: every vehicle the data set will ever see, chosen up front so that memory depends on
 * the fleet size, never on the number of reads. Plates are unique within a fleet, so a true plate
 * names one vehicle (the match-quality report relies on it).
 *
 * Revisit classes (each a parameter of GenOptions):
 * - commuters: twice a weekday over the same fixed cameras, out in the morning and back in the evening;
 * - frequent (taxis, delivery vans, patrol-area residents): a tiny share of vehicles, seen hundreds of times;
 * - regular: a fifth of vehicles, seen about a dozen times;
 * - occasional: the rest, seen a few times.
 *
 * Layout: vehicle indexes [0, commuters) are commuters, then frequent, regular, occasional.
 */
import { Geography } from './geography.js';
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
  readonly size: number;
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

  constructor(rng: Prng, geography: Geography, options: FleetOptions) {
    const n = options.vehicles;
    this.size = n;
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
    const vanity: PlateFormat = { region: kHomeState.region, kind: 'vanity', templates: [] };
    const seen = new PlateSet(n);
    for (let v = 0; v < n; v++) {
      let format = formatTable.draw(rng);
      if (format === 'vanity') format = vanity;
      let plate = makePlate(rng, format);
      // Unique plates; a crowded format (short vanity plates) falls back to the home state's series.
      for (let tries = 0; !seen.add(plate); tries++) {
        if (tries > 8) format = kHomeState;
        plate = makePlate(rng, format);
      }
      this.plate.push(plate);
      this.region.push(format.region);
      this.make.push(kMakes.draw(rng));
      this.color.push(kColors.draw(rng));
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
  }

  /** Mean number of cameras on a commuter route. */
  static readonly kMeanRouteLength = 3;
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
