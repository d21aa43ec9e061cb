/**
 * Every knob of the generator, its default and its validation. The CLI maps `--kebab-case` flags
 * onto these fields one to one; library callers pass a partial object.
 */
import { isTenantName } from '../model/tenant.js';
import { parseIsoTimestamp } from '../model/time.js';
import { kMsPerDay } from './traffic.js';

export interface GenOptions {
  /** Number of reads to generate, exactly. */
  reads: number;
  /** Any safe non-negative integer; same seed and options, same data. */
  seed: number;
  /** Tenant (agency) names; sizes fall off as 1, 1/2, 1/3, … in this order. */
  tenants: string[];
  /** First instant of the data set, epoch ms. */
  start: number;
  /** Length of the data set in days (fractions allowed). */
  days: number;
  /** Local time of the cameras = UTC + this many minutes (−480: PST). */
  utcOffsetMinutes: number;
  /** Distinct vehicles; default reads / 8, between 50 and 500,000 (memory is bounded by this, not by reads). */
  vehicles: number;
  fixedCameras: number;
  mobileCameras: number;
  /** Share of reads that come from commuter trips (derives the number of commuters). */
  commuterShare: number;
  /** Shares of non-commuter vehicles in the frequent and regular classes. */
  frequentShare: number;
  regularShare: number;
  /** Shares of non-commuter reads that go to frequent and regular vehicles (the rest to occasional ones). */
  frequentReadShare: number;
  regularReadShare: number;
  vanityShare: number;
  outOfStateShare: number;
  foreignShare: number;
  /** Probability that a commuter's trip on a weekday is skipped (holiday, sick day, other route). */
  commuteSkipRate: number;
  /** Probability that a camera on a route captures the passing commuter. */
  captureRate: number;
  /** Position jitter (σ, metres) of fixed and of mobile cameras. */
  jitterM: number;
  mobileJitterM: number;
  /** Misread rates per read. */
  confusableRate: number;
  otherSubstitutionRate: number;
  indelRate: number;
  transpositionRate: number;
  /** Probability that make and colour are classified (by day; lower at night). */
  labelRate: number;
  /**
   * Planted patterns (src/gen/plants.ts), each listed in the truth file: convoys (a follower behind a
   * commuter for several days), cloned plates (a second vehicle with a commuter's plate, driving in another
   * city at the same hours), frequent visitors (a vehicle returning to one camera on many days) and incident
   * series (an offender passing 3-4 incidents' cameras at their times, and two decoys passing all but one).
   * Default: defaultPlants(reads) each.
   */
  convoys: number;
  clonedPlates: number;
  frequentVisitors: number;
  incidentSeries: number;
}

/** 2026-11-02 00:00 PST, a Monday after the DST change: a full week from Monday to Sunday. */
export const kDefaultStart = Date.UTC(2026, 10, 2, 8, 0, 0);

export const kDefaultTenants = ['pd-metro', 'pd-east', 'pd-south', 'so-county'];

export function defaultVehicles(reads: number): number {
  return Math.min(500_000, Math.max(50, Math.round(reads / 8)));
}

/** Planted patterns of each kind by default: one per 20,000 reads, at most 50 (none below 20,000 reads). */
export function defaultPlants(reads: number): number {
  return Math.min(50, Math.floor(reads / 20_000));
}

/** Fills defaults and validates; throws an Error whose message names the field. */
export function resolveOptions(input: Partial<GenOptions> & { reads: number; seed: number }): GenOptions {
  const o: GenOptions = {
    tenants: kDefaultTenants,
    start: kDefaultStart,
    days: 7,
    utcOffsetMinutes: -480,
    vehicles: defaultVehicles(input.reads),
    fixedCameras: 400,
    mobileCameras: 40,
    commuterShare: 0.2,
    frequentShare: 0.002,
    regularShare: 0.2,
    frequentReadShare: 0.1,
    regularReadShare: 0.4,
    vanityShare: 0.03,
    outOfStateShare: 0.1,
    foreignShare: 0.02,
    commuteSkipRate: 0.08,
    captureRate: 0.9,
    jitterM: 5,
    mobileJitterM: 15,
    confusableRate: 0.02,
    otherSubstitutionRate: 0.003,
    indelRate: 0.005,
    transpositionRate: 0.001,
    labelRate: 0.92,
    convoys: defaultPlants(input.reads),
    clonedPlates: defaultPlants(input.reads),
    frequentVisitors: defaultPlants(input.reads),
    incidentSeries: defaultPlants(input.reads),
    ...stripUndefined(input),
    reads: input.reads,
    seed: input.seed,
  };
  integer('reads', o.reads, 1, Number.MAX_SAFE_INTEGER);
  integer('seed', o.seed, 0, Number.MAX_SAFE_INTEGER);
  integer('vehicles', o.vehicles, 1, 50_000_000);
  integer('fixedCameras', o.fixedCameras, 1, 1_000_000);
  integer('mobileCameras', o.mobileCameras, 0, 1_000_000);
  integer('utcOffsetMinutes', o.utcOffsetMinutes, -14 * 60, 14 * 60);
  integer('convoys', o.convoys, 0, 10_000);
  integer('clonedPlates', o.clonedPlates, 0, 10_000);
  integer('frequentVisitors', o.frequentVisitors, 0, 10_000);
  integer('incidentSeries', o.incidentSeries, 0, 10_000);
  if (!Array.isArray(o.tenants) || o.tenants.length === 0) throw new Error('tenants must list at least one tenant');
  for (const t of o.tenants) {
    if (!isTenantName(t)) throw new Error(`tenants: "${t}" is not a valid tenant name (a-z, 0-9, ".", "_", "-"; 1-63 characters)`);
  }
  if (new Set(o.tenants).size !== o.tenants.length) throw new Error('tenants must not repeat a name');
  if (!Number.isFinite(o.start) || o.start < 0 || o.start > 8.64e15) throw new Error('start must be an instant after 1970');
  if (!Number.isFinite(o.days) || o.days <= 0 || o.days > 3660) throw new Error('days must be a number in (0, 3660]');
  if (o.start + o.days * kMsPerDay > 8.64e15) throw new Error('start + days is out of the representable range');
  for (const k of [
    'commuterShare', 'frequentShare', 'regularShare', 'frequentReadShare', 'regularReadShare', 'vanityShare',
    'outOfStateShare', 'foreignShare', 'commuteSkipRate', 'captureRate', 'confusableRate', 'otherSubstitutionRate',
    'indelRate', 'transpositionRate', 'labelRate',
  ] as const) {
    share(k, o[k]);
  }
  if (o.frequentShare + o.regularShare > 1) throw new Error('frequentShare + regularShare must not exceed 1');
  if (o.frequentReadShare + o.regularReadShare > 1) throw new Error('frequentReadShare + regularReadShare must not exceed 1');
  if (o.vanityShare + o.outOfStateShare + o.foreignShare > 1) throw new Error('vanityShare + outOfStateShare + foreignShare must not exceed 1');
  if (o.confusableRate + o.otherSubstitutionRate + o.indelRate + o.transpositionRate > 0.5) {
    throw new Error('the misread rates must add up to at most 0.5');
  }
  for (const k of ['jitterM', 'mobileJitterM'] as const) {
    if (!Number.isFinite(o[k]) || o[k] < 0 || o[k] > 10_000) throw new Error(`${k} must be a number of metres in [0, 10000]`);
  }
  return o;
}

/** Parses `--start`: ISO-8601 with a zone, as API.md's `ts`. */
export function parseStart(s: string): number {
  const t = parseIsoTimestamp(s);
  if (t === undefined) throw new Error(`start must be an ISO-8601 timestamp with a zone, e.g. 2026-11-02T08:00:00Z (got "${s}")`);
  return t;
}

function integer(name: string, v: number, min: number, max: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new Error(`${name} must be an integer in [${min}, ${max}]`);
  }
}

function share(name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) throw new Error(`${name} must be a number in [0, 1]`);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
