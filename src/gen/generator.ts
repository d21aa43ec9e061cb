/**
 * The generator proper: walks the time span in short windows and, for each window, emits the
 * commuter trips that pass a camera in it plus enough other traffic to follow the day/night and
 * weekday cycle, sorted by time. Memory is the fleet and the geography plus one window of reads,
 * whatever the number of reads.
 *
 * Determinism: one sfc32 stream for the set-up (geography, fleet), one for the reads, consumed in
 * a fixed order; commuter decisions come from a stateless hash of (commuter, day, leg, stop), so a
 * trip that straddles two windows is decided the same way in both.
 */
import { Fleet } from './vehicles.js';
import { Geography, jitter, metresBetween } from './geography.js';
import { kMisreadKinds, OcrErrorModel, type MisreadKind } from './ocr-errors.js';
import { resolveOptions, type GenOptions } from './options.js';
import { PendingReads } from './pending-reads.js';
import { Plants } from './plants.js';
import { hashFloat, Prng } from './prng.js';
import { countWeekdays, intensity, isNight, isWeekday, kDepartureJitterMs, kMsPerDay } from './traffic.js';

// A window short enough that its reads sort in a blink, long enough to amortise the per-window work.
const kWindowMs = 60_000;
// Expected reads of a peak window are kept under this, by halving the window for huge runs.
const kMaxExpectedPerWindow = 200_000;
// Share of a non-commuter's reads in its home city; the rest are trips elsewhere in the metro.
const kHomeCityShare = 0.75;
// Hash salts: independent stateless streams for commuter decisions.
const kSaltSkip = 0x51a7;
const kSaltDeparture = 0xde9a;
const kSaltStop = 0x5709;
const kSaltCapture = 0xca97;
/**
 * Fastest a background vehicle moves between two of its reads (straight line; roads are longer): 90 km/h.
 * A read whose camera the vehicle could not have reached since its previous read is taken at that camera
 * again (still there, or back): gen's vehicles never jump between cities (the cloned-plate analysis would
 * list them), only planted cloned plates do.
 */
const kMaxTravelMps = 90 / 3.6;
// Position jitter of two reads (fixed cameras: σ 5 m; patrol cars: 15 m) is never counted as travel.
const kJitterSlackM = 200;

/**
 * One window's reads, in time order, as columns. The arrays are reused for the next window:
 * consume a chunk before asking for the next one.
 */
export interface ReadChunk {
  /** 0-based index, in the whole data set, of this chunk's first read (its line in the NDJSON file). */
  first: number;
  count: number;
  /** Index into `ReadGenerator.tenants`. */
  tenant: Int32Array;
  /** Index into the fleet; the vehicle's true plate is `fleet.plate[vehicle]`. */
  vehicle: Int32Array;
  /** Index into `ReadGenerator.geography.cameras`. */
  camera: Int32Array;
  /** Epoch ms. */
  ts: Float64Array;
  /**
   * Degrees × 10^6, rounded (≈ 0.1 m): integers, so that the line encoder writes their digits as they
   * are and nothing divides on the generating thread; the degrees are latE6 / 1e6.
   */
  latE6: Int32Array;
  lonE6: Int32Array;
  /** Confidence × 1000, rounded (0 … 1000); the confidence is confidenceE3 / 1000. */
  confidenceE3: Uint16Array;
  /**
   * The plate as read, for misreads only (rows where `misread` ≠ 0; other rows hold stale entries).
   * A correct read's plate is its vehicle's, `fleet.plate[vehicle]`: not copied here, since that
   * lookup is a cache miss per read (random vehicles over a fleet of megabytes).
   */
  plate: string[];
  /** 0 for a correct read, else 1 + index into kMisreadKinds. */
  misread: Uint8Array;
  /** Edits the misread made (0 for a correct read). */
  edits: Uint8Array;
  /** Bit 0: the read carries `region`; bit 1: it carries `make` and `color`. */
  labels: Uint8Array;
}

export class ReadGenerator {
  readonly options: GenOptions;
  readonly geography: Geography;
  readonly fleet: Fleet;
  readonly tenants: readonly string[];
  /** The planted convoys, cloned plates and frequent visitors (plants.ts); the truth file lists them. */
  readonly plants: Plants;
  private readonly rng: Prng;
  private readonly ocr: OcrErrorModel;
  private readonly offsetMs: number;
  private readonly windowMs: number;

  constructor(options: Partial<GenOptions> & { reads: number; seed: number }) {
    const o = resolveOptions(options);
    this.options = o;
    this.tenants = o.tenants;
    const setup = new Prng(o.seed, 1);
    this.rng = new Prng(o.seed, 2);
    this.offsetMs = o.utcOffsetMinutes * 60_000;
    const spanMs = o.days * kMsPerDay;
    let windowMs = kWindowMs;
    // Peak hours carry about twice the mean traffic.
    while (windowMs > 1000 && (o.reads * windowMs * 2) / spanMs > kMaxExpectedPerWindow) windowMs /= 2;
    this.windowMs = Math.floor(windowMs);

    this.geography = new Geography(setup, { tenants: o.tenants, fixedCameras: o.fixedCameras, mobileCameras: o.mobileCameras });
    const weekdays = countWeekdays(o.start + this.offsetMs, spanMs);
    const perCommuter = weekdays * 2 * Fleet.kMeanRouteLength * o.captureRate * (1 - o.commuteSkipRate);
    const commuters = perCommuter > 0 ? Math.min(Math.floor(o.vehicles / 2), Math.round((o.commuterShare * o.reads) / perCommuter)) : 0;
    this.fleet = new Fleet(setup, this.geography, {
      vehicles: o.vehicles,
      commuters,
      frequentShare: o.frequentShare,
      regularShare: o.regularShare,
      vanityShare: o.vanityShare,
      outOfStateShare: o.outOfStateShare,
      foreignShare: o.foreignShare,
      sameCityCommuteShare: 0.6,
    });
    this.plants = new Plants(o, this.fleet, this.geography, o.start + this.offsetMs);
    this.lastTs = new Float64Array(this.fleet.background).fill(-Infinity);
    this.lastCamera = new Int32Array(this.fleet.background);
    this.reachHorizonMs = reachHorizon(this.geography);
    this.ocr = new OcrErrorModel({
      confusable: o.confusableRate,
      otherSubstitution: o.otherSubstitutionRate,
      indel: o.indelRate,
      transposition: o.transpositionRate,
    });
  }

  /** The misread kind of a chunk's `misread` code, or undefined for a correct read. */
  static misreadKind(code: number): MisreadKind | undefined {
    return code === 0 ? undefined : kMisreadKinds[code - 1];
  }

  /** Yields the data set window by window, exactly `options.reads` reads in time order. */
  *chunks(): Generator<ReadChunk> {
    const o = this.options;
    const start = o.start + this.offsetMs; // local time from here on
    const end = start + o.days * kMsPerDay;
    let totalWeight = 0;
    for (let a = start; a < end; a += this.windowMs) totalWeight += intensity(a) * (Math.min(end, a + this.windowMs) - a);

    const chunk = newChunk(1024);
    const pending = new PendingReads(1024);
    let emitted = 0;
    let weightSoFar = 0;
    for (let a = start; a < end && emitted < o.reads; a += this.windowMs) {
      const b = Math.min(end, a + this.windowMs);
      weightSoFar += intensity(a) * (b - a);
      const last = b >= end;
      const target = last ? o.reads : Math.min(o.reads, Math.round((o.reads * weightSoFar) / totalWeight));

      pending.clear();
      this.commuterReads(a, b, pending);
      const others = Math.max(0, Math.min(target - emitted - pending.count, o.reads - emitted - pending.count));
      this.otherReads(a, b, others, pending);
      const order = pending.sortedOrder();
      const count = Math.min(order.length, o.reads - emitted);
      if (count === 0) continue;
      ensureCapacity(chunk, count);
      chunk.first = emitted;
      chunk.count = count;
      for (let i = 0; i < count; i++) this.finishRead(pending, order[i]!, chunk, i);
      emitted += count;
      yield chunk;
    }
  }

  /** Commuter passes of the current local day as planned (commuter by commuter); rebuilt when the day changes. */
  private commuteDay = Number.NaN;
  private commutes = new PendingReads(1024);
  /**
   * The same passes window by window (see windowOrder), copied into that order once a day: a window's
   * passes come from all over the plan, and reading them through an index was a cache miss per column.
   */
  private dayTs = new Float64Array(0);
  private dayVehicle = new Int32Array(0);
  private dayCamera = new Int32Array(0);
  private commuteNext = 0;

  /** Commuter and planted passes of [a, b) (local ms). */
  private commuterReads(a: number, b: number, out: PendingReads): void {
    const day = Math.floor(a / kMsPerDay);
    if (day !== this.commuteDay) this.planCommutes(day);
    const ts = this.dayTs;
    while (this.commuteNext < ts.length) {
      const t = ts[this.commuteNext]!;
      if (t >= b) break;
      if (t >= a) out.push(t, this.dayVehicle[this.commuteNext]!, this.dayCamera[this.commuteNext]!);
      this.commuteNext++;
    }
  }

  /** Scratch of planCommutes: a leg's times and cameras (a route has at most 4 cameras). */
  private readonly legTimes = new Float64Array(8);
  private readonly legCameras = new Int32Array(8);

  /**
   * Every camera pass of every commuter trip of local day `day`: each commuter, unless skipping the day,
   * leaves around its usual time (± kDepartureJitterMs) and passes its route's cameras as far apart as the
   * road takes (Fleet.routeOffsetMs), each capturing it with probability captureRate; the evening trip runs
   * the route backwards. Then the day's planted passes: convoy followers behind their leader, cloned-plate
   * twins, frequent visitors (plants.ts).
   */
  private planCommutes(day: number): void {
    this.commuteDay = day;
    this.commuteNext = 0;
    const out = this.commutes;
    out.clear();
    const fleet = this.fleet;
    const plants = this.plants;
    const dayStart = day * kMsPerDay;
    if (fleet.commuters > 0 && isWeekday(dayStart)) {
      const seed = this.options.seed;
      const h = day + 1_000_000; // hash inputs stay positive
      const times = this.legTimes;
      const cameras = this.legCameras;
      for (let c = 0; c < fleet.commuters; c++) {
        const first = fleet.routeStart[c]!;
        const stops = fleet.routeStart[c + 1]! - first;
        const total = fleet.routeOffsetMs[first + stops - 1]!;
        for (let leg = 0; leg < 2; leg++) {
          if (hashFloat(seed ^ kSaltSkip, c, h, leg) < this.options.commuteSkipRate) continue;
          const usual = leg === 0 ? fleet.morningMs[c]! : fleet.eveningMs[c]!;
          const departure = dayStart + usual + Math.round((2 * hashFloat(seed ^ kSaltDeparture, c, h, leg) - 1) * kDepartureJitterMs);
          for (let s = 0; s < stops; s++) {
            const at = first + (leg === 0 ? s : stops - 1 - s);
            const offset = leg === 0 ? fleet.routeOffsetMs[at]! : total - fleet.routeOffsetMs[at]!;
            // ±30 s of traffic-light luck at each stop, to the millisecond.
            times[s] = Math.floor(departure + offset + hashFloat(seed ^ kSaltStop, c, h, leg * 8 + s) * 60_000) - 30_000;
            cameras[s] = fleet.routeCameras[at]!;
            if (hashFloat(seed ^ kSaltCapture, c, h, leg * 8 + s) >= this.options.captureRate) continue;
            out.push(times[s]!, c, cameras[s]!);
          }
          if (plants.leads(c)) plants.followLeg(c, day, leg, times, cameras, stops, out);
        }
      }
    }
    plants.planDay(day, out);
    const order = out.windowOrder(this.options.start + this.offsetMs, this.windowMs);
    const n = order.length;
    if (this.dayTs.length !== n) {
      this.dayTs = new Float64Array(n);
      this.dayVehicle = new Int32Array(n);
      this.dayCamera = new Int32Array(n);
    }
    for (let k = 0; k < n; k++) {
      const p = order[k]!;
      this.dayTs[k] = out.ts[p]!;
      this.dayVehicle[k] = out.vehicle[p]!;
      this.dayCamera[k] = out.camera[p]!;
    }
  }

  /** Scratch of otherReads: per read, its city (−1: the vehicle's home city) and its camera's draw. */
  private otherCity = new Int32Array(1024);
  private otherDraw = new Float64Array(1024);
  /** Scratch of otherReads: per read, its vehicle's latest read before it (local ms). */
  private otherLast = new Float64Array(1024);

  /**
   * `count` reads of non-commuter vehicles at random instants of [a, b), appended to `out`.
   * Two passes: the draws first, then the home cities and cameras. A vehicle's home city is a cache
   * miss (random vehicles over a fleet of megabytes); looked up in a loop of independent loads the
   * misses overlap, where drawing and looking up in turn waited for each (~40 ns a read). The draws
   * are the same, in the same order: how many a read makes does not depend on its home city.
   */
  private otherReads(a: number, b: number, count: number, out: PendingReads): void {
    const rng = this.rng;
    const fleet = this.fleet;
    const o = this.options;
    if (this.otherCity.length < count) {
      this.otherCity = new Int32Array(count * 2);
      this.otherDraw = new Float64Array(count * 2);
      this.otherLast = new Float64Array(count * 2);
    }
    const cityOf = this.otherCity;
    const draw = this.otherDraw;
    const first = out.count;
    const occasionalStart = fleet.commuters + fleet.frequent + fleet.regular;
    for (let k = 0; k < count; k++) {
      const u = rng.float();
      let lo: number;
      let n: number;
      if (u < o.frequentReadShare && fleet.frequent > 0) {
        lo = fleet.commuters;
        n = fleet.frequent;
      } else if (u < o.frequentReadShare + o.regularReadShare && fleet.regular > 0) {
        lo = fleet.commuters + fleet.frequent;
        n = fleet.regular;
      } else if (fleet.background > occasionalStart) {
        lo = occasionalStart;
        n = fleet.background - occasionalStart;
      } else {
        lo = fleet.commuters;
        n = fleet.background - fleet.commuters;
      }
      const vehicle = lo + rng.int(n);
      cityOf[k] = rng.chance(kHomeCityShare) ? -1 : this.geography.cityTable.draw(rng);
      draw[k] = rng.float(); // the camera's, see cameraOf
      out.push(a + rng.int(b - a), vehicle, -1);
    }
    const geography = this.geography;
    const homeCity = fleet.homeCity;
    const vehicles = out.vehicle;
    const cameras = out.camera;
    // loads only: a branch on a loaded city would wait for its miss before the next load could start
    const lastTs = this.lastTs;
    const before = this.otherLast;
    // loads only (see above): the home city and the vehicle's latest read are cache misses that overlap here
    for (let k = 0; k < count; k++) {
      const v = vehicles[first + k]!;
      if (cityOf[k]! < 0) cityOf[k] = homeCity[v]!;
      before[k] = lastTs[v]!;
    }
    const times = out.ts;
    const horizon = this.reachHorizonMs;
    for (let k = 0; k < count; k++) {
      const v = vehicles[first + k]!;
      const t = times[first + k]!;
      let camera = geography.cameraOf(cityOf[k]!, draw[k]!);
      // read again, not before[k]: an earlier read of this window may be the same vehicle's (the load above
      // only brought the line into the cache)
      const last = lastTs[v]!;
      // a read long after (or before) the latest reaches any camera: most reads of a vehicle are hours apart
      if (last !== -Infinity && Math.abs(t - last) < horizon) {
        const previous = this.lastCamera[v]!;
        if (camera !== previous && !this.reachable(previous, last, camera, t)) camera = previous;
      }
      // within a window reads are drawn out of time order: the latest read stays the reference
      if (!(t < last)) {
        lastTs[v] = t;
        this.lastCamera[v] = camera;
      }
      cameras[first + k] = camera;
    }
  }

  /** Per background vehicle, its latest read so far (local ms; -Infinity: none) and that read's camera. */
  private readonly lastTs: Float64Array;
  private readonly lastCamera: Int32Array;
  private readonly positionA = new Float64Array(2);
  private readonly positionB = new Float64Array(2);

  /** Time past which any camera reaches any other at kMaxTravelMps: the span of the cameras (and patrol loops). */
  private readonly reachHorizonMs: number;

  /** Whether a vehicle read at camera a at local time ta can be read at camera b at tb (kMaxTravelMps). */
  private reachable(a: number, ta: number, b: number, tb: number): boolean {
    const g = this.geography;
    const ca = g.cameras[a]!, cb = g.cameras[b]!;
    let d: number;
    if (!ca.mobile && !cb.mobile) d = metresBetween(ca.lat, ca.lon, cb.lat, cb.lon);
    else {
      g.position(a, ta - this.offsetMs, this.positionA);
      g.position(b, tb - this.offsetMs, this.positionB);
      d = metresBetween(this.positionA[0]!, this.positionA[1]!, this.positionB[0]!, this.positionB[1]!);
    }
    return d <= kJitterSlackM + (kMaxTravelMps * Math.abs(tb - ta)) / 1000;
  }

  private readonly position = new Float64Array(2);

  /** Turns pending read `p` into row `i` of the chunk: position, misread, confidence, labels. */
  private finishRead(pending: PendingReads, p: number, chunk: ReadChunk, i: number): void {
    const rng = this.rng;
    const o = this.options;
    const local = pending.ts[p]!;
    const ts = local - this.offsetMs;
    const vehicle = pending.vehicle[p]!;
    const camera = pending.camera[p]!;
    const cam = this.geography.cameras[camera]!;
    const night = isNight(local);

    this.geography.position(camera, ts, this.position);
    jitter(rng, cam.mobile ? o.mobileJitterM : o.jitterM, this.position);

    const x = rng.float();
    const misread = this.ocr.mayMisread(x) ? this.ocr.apply(rng, this.fleet.plate[vehicle]!, x) : undefined;
    let confidence: number;
    if (misread === undefined) {
      confidence = clamp(0.94 + 0.03 * rng.normal() - (night ? 0.05 : 0), 0.55, 0.999);
      chunk.misread[i] = 0;
      chunk.edits[i] = 0;
    } else {
      confidence = clamp(0.78 + 0.1 * rng.normal() - (night ? 0.05 : 0), 0.3, 0.99);
      chunk.plate[i] = misread.plate;
      chunk.misread[i] = misread.kind;
      chunk.edits[i] = misread.edits;
    }
    const region = rng.chance(0.97) ? 1 : 0;
    const labels = rng.chance(night ? o.labelRate - 0.15 : o.labelRate) ? 2 : 0;

    if (vehicle >= this.fleet.background) this.plants.record(vehicle, chunk.first + i, ts);
    chunk.tenant[i] = cam.tenant;
    chunk.vehicle[i] = vehicle;
    chunk.camera[i] = camera;
    chunk.ts[i] = ts;
    chunk.latE6[i] = Math.round(this.position[0]! * 1e6);
    chunk.lonE6[i] = Math.round(this.position[1]! * 1e6);
    chunk.confidenceE3[i] = Math.round(confidence * 1000);
    chunk.labels[i] = region | labels;
  }
}

/** See ReadGenerator.reachHorizonMs: the diagonal of the cameras' box, plus a patrol loop's reach, at kMaxTravelMps. */
function reachHorizon(g: Geography): number {
  let minLat = Infinity, maxLat = -Infinity, minLon = Infinity, maxLon = -Infinity;
  for (const c of g.cameras) {
    minLat = Math.min(minLat, c.lat);
    maxLat = Math.max(maxLat, c.lat);
    minLon = Math.min(minLon, c.lon);
    maxLon = Math.max(maxLon, c.lon);
  }
  if (!Number.isFinite(minLat)) return 0;
  const spanM = metresBetween(minLat, minLon, maxLat, maxLon) + 2 * 20_000 + kJitterSlackM; // loops stay within ~20 km of their city
  return (spanM / kMaxTravelMps) * 1000;
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

function newChunk(capacity: number): ReadChunk {
  return {
    first: 0,
    count: 0,
    tenant: new Int32Array(capacity),
    vehicle: new Int32Array(capacity),
    camera: new Int32Array(capacity),
    ts: new Float64Array(capacity),
    latE6: new Int32Array(capacity),
    lonE6: new Int32Array(capacity),
    confidenceE3: new Uint16Array(capacity),
    plate: new Array<string>(capacity).fill(''),
    misread: new Uint8Array(capacity),
    edits: new Uint8Array(capacity),
    labels: new Uint8Array(capacity),
  };
}

function ensureCapacity(chunk: ReadChunk, n: number): void {
  if (chunk.ts.length >= n) return;
  let cap = chunk.ts.length;
  while (cap < n) cap *= 2;
  Object.assign(chunk, newChunk(cap), { first: chunk.first, count: chunk.count });
}
