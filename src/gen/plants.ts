/**
 * Patterns planted in the generated traffic, so that the investigative analyses (API.md "Investigative
 * analytics", docs/analytics.md) can be scored against known answers, as plate matching is scored against
 * the misreads (docs/match-quality.md). Each plant is a vehicle added to the fleet after the background
 * vehicles (vehicles.ts) and read only as its plant says; the truth file lists every plant and the lines of
 * its reads (ndjson-writer.ts).
 *
 * - Convoy: a follower drives right behind a commuter (the leader) on every commute of several consecutive
 *   days (5–10 calendar days, so 3–8 weekdays): at each camera of the leader's route it passes 3–20 s after
 *   the leader (± 2 s), and each camera captures it on its own (captureRate), as it captures the leader.
 * - Cloned plate: a second vehicle (the twin) carries a commuter's plate and region, and drives a route of its
 *   own of 2–3 cameras in a city at least 30 km from the commuter's route, at the commuter's hours (its usual
 *   departure ± 20 min), on 3–6 consecutive calendar days: the plate is read in two places too far apart for
 *   the time between.
 * - Frequent visitor: a vehicle comes back to one fixed camera on 4–8 distinct days (of the whole span), each
 *   time read 1–3 times within a stay of up to 45 minutes, between 07:00 and 21:00 local time.
 * - Incident series: 3–4 incidents (a fixed camera each, on distinct days, at a time between 00:45 and
 *   23:15 local) and an offender that passes each incident's camera once or twice within 40 minutes of it,
 *   each pass captured on its own (captureRate); plus two decoys per series, each passing all the incidents'
 *   cameras but one (a different one each) in the same way: what multi-site must tell apart.
 *
 * Determinism: every choice is drawn from a stream of its own (stream 3 of the seed) after the fleet and the
 * geography are built, and per-trip decisions come from stateless hashes (as the commuters'), so the
 * background fleet, routes and cameras are the same with or without plants. The reads are not: planted
 * reads take the place of background reads in their window (a data set has exactly `reads` reads).
 */
import { formatTimestamp } from '../model/time.js';
import { Geography, metresBetween } from './geography.js';
import type { GenOptions } from './options.js';
import type { PendingReads } from './pending-reads.js';
import { hashFloat, Prng } from './prng.js';
import { driveMs, Fleet } from './vehicles.js';
import { isWeekday, kMaxHopMs, kMsPerDay, kMsPerHour, kMsPerMinute } from './traffic.js';

const kSaltFollow = 0xf011;
const kSaltFollowJitter = 0xf01f;
const kSaltTwin = 0x7341;
const kSaltTwinShift = 0x7345;
const kSaltTwinStop = 0x7347;
const kSaltSeries = 0x5e71;
/** An offender or decoy passes an incident's camera within this of the incident. */
const kIncidentPassMs = 40 * kMsPerMinute;
/** Decoys per incident series. */
const kDecoysPerSeries = 2;
/** A cloned plate's twin drives in a city whose centre is at least this far from every camera of the original's route. */
const kCloneMinDistanceM = 30_000;

export type PlantKind = 'convoy' | 'cloned' | 'visitor' | 'series' | 'decoy';

/** Which plant a vehicle is: its kind and index in the truth file's list; a twin also names its original vehicle. */
export interface PlantRef {
  kind: PlantKind;
  index: number;
  original?: number;
}

interface Convoy {
  leader: number;
  follower: number;
  gapMs: number;
  /** Local day indexes [firstDay, lastDay). */
  firstDay: number;
  lastDay: number;
}

interface Clone {
  original: number;
  twin: number;
  city: number;
  cameras: number[];
  /** Time from the twin's first camera to each of its cameras. */
  offsetsMs: number[];
  firstDay: number;
  lastDay: number;
}

interface Visitor {
  vehicle: number;
  camera: number;
  days: number[];
}

interface Incident {
  camera: number;
  /** The incident's local ms (its local day: Math.floor(at / kMsPerDay)). */
  at: number;
}

interface Series {
  offender: number;
  incidents: Incident[];
}

interface Decoy {
  vehicle: number;
  series: number;
  /** Indexes of the series' incidents it passes (all but one). */
  incidents: number[];
}

/** A vehicle passing an incident's camera around its time (an offender's or a decoy's). */
interface IncidentPass {
  vehicle: number;
  incident: Incident;
}

/** A planted vehicle's reads as emitted: lines of the data set and epoch-ms times. */
interface Emitted {
  lines: number[];
  ts: number[];
}

export class Plants {
  readonly convoys: Convoy[] = [];
  readonly clones: Clone[] = [];
  readonly visitors: Visitor[] = [];
  readonly series: Series[] = [];
  readonly decoys: Decoy[] = [];
  /** Per commuter: the convoys it leads (most commuters: none). */
  private readonly ledBy = new Map<number, Convoy[]>();
  /** Per local day: the twins and visitors that drive or visit that day. */
  private readonly clonesByDay = new Map<number, Clone[]>();
  private readonly visitsByDay = new Map<number, Visitor[]>();
  private readonly passesByDay = new Map<number, IncidentPass[]>();
  /** Per planted vehicle (index − fleet.background): its plant and what was emitted of it. */
  private readonly kindOf: PlantKind[] = [];
  private readonly indexOf: number[] = [];
  private readonly emitted: Emitted[] = [];

  constructor(
    private readonly options: GenOptions,
    private readonly fleet: Fleet,
    private readonly geography: Geography,
    startLocal: number,
  ) {
    const o = options;
    const rng = new Prng(o.seed, 3);
    const firstDay = Math.floor(startLocal / kMsPerDay);
    const lastDay = Math.ceil((startLocal + o.days * kMsPerDay) / kMsPerDay); // exclusive
    const spanDays = lastDay - firstDay;
    const leaders = distinctDraws(rng, fleet.commuters, o.convoys + o.clonedPlates);
    const run = (min: number, max: number) => {
      const length = Math.min(spanDays, min + rng.int(max - min + 1));
      const from = firstDay + rng.int(spanDays - length + 1);
      return [from, from + length] as const;
    };

    for (const leader of leaders.slice(0, o.convoys)) {
      const follower = fleet.addVehicle(rng);
      const [from, to] = run(5, 10);
      const convoy: Convoy = { leader, follower, gapMs: 3000 + rng.int(17_001), firstDay: from, lastDay: to };
      this.convoys.push(convoy);
      this.ledBy.set(leader, [...(this.ledBy.get(leader) ?? []), convoy]);
      this.register(follower, 'convoy', this.convoys.length - 1);
    }

    for (const original of leaders.slice(o.convoys)) {
      const route = fleet.routeCameras.subarray(fleet.routeStart[original]!, fleet.routeStart[original + 1]!);
      const far: number[] = [];
      let farthest = 0, farthestM = -1;
      geography.cities.forEach((city, i) => {
        let m = Infinity;
        for (const cam of route) m = Math.min(m, metresBetween(city.lat, city.lon, geography.cameras[cam]!.lat, geography.cameras[cam]!.lon));
        if (m >= kCloneMinDistanceM) far.push(i);
        if (m > farthestM) [farthest, farthestM] = [i, m];
      });
      const city = far.length > 0 ? far[rng.int(far.length)]! : farthest;
      const twin = fleet.addVehicle(rng, { plate: fleet.plate[original]!, region: fleet.region[original]! });
      const stops = 2 + rng.int(2);
      const hopMs = 2 * kMsPerMinute + rng.float() * (kMaxHopMs - 3 * kMsPerMinute);
      const cameras: number[] = [];
      const offsetsMs: number[] = [0];
      for (let s = 0; s < stops; s++) {
        let cam = geography.drawCamera(rng, city);
        for (let tries = 0; tries < 4 && cameras.includes(cam); tries++) cam = geography.drawCamera(rng, city);
        if (s > 0) offsetsMs.push(offsetsMs[s - 1]! + driveMs(geography, cameras[s - 1]!, cam, hopMs));
        cameras.push(cam);
      }
      const [from, to] = run(3, 6);
      const clone: Clone = { original, twin, city, cameras, offsetsMs, firstDay: from, lastDay: to };
      this.clones.push(clone);
      for (let d = from; d < to; d++) this.clonesByDay.set(d, [...(this.clonesByDay.get(d) ?? []), clone]);
      this.register(twin, 'cloned', this.clones.length - 1);
    }

    const fixed = geography.cameras.flatMap((c, i) => (c.mobile ? [] : [i]));
    for (let n = 0; n < o.frequentVisitors && fixed.length > 0; n++) {
      const vehicle = fleet.addVehicle(rng);
      const camera = fixed[rng.int(fixed.length)]!;
      const count = Math.min(spanDays, 4 + rng.int(5));
      const days = distinctDraws(rng, spanDays, count).map((d) => firstDay + d).sort((a, b) => a - b);
      const visitor: Visitor = { vehicle, camera, days };
      this.visitors.push(visitor);
      for (const d of days) this.visitsByDay.set(d, [...(this.visitsByDay.get(d) ?? []), visitor]);
      this.register(vehicle, 'visitor', this.visitors.length - 1);
    }

    for (let n = 0; n < o.incidentSeries && fixed.length > 0; n++) {
      const offender = fleet.addVehicle(rng);
      const count = Math.min(spanDays, 3 + rng.int(2));
      const days = distinctDraws(rng, spanDays, count).map((d) => firstDay + d).sort((a, b) => a - b);
      const incidents: Incident[] = [];
      for (const day of days) {
        let camera = fixed[rng.int(fixed.length)]!;
        for (let tries = 0; tries < 4 && incidents.some((i) => i.camera === camera); tries++) camera = fixed[rng.int(fixed.length)]!;
        // 00:45-23:15, so every pass (± 40 minutes) falls on the incident's own day, when its passes are planned
        incidents.push({ camera, at: day * kMsPerDay + 45 * kMsPerMinute + Math.floor(rng.float() * 22.5 * kMsPerHour) });
      }
      this.series.push({ offender, incidents });
      const index = this.series.length - 1;
      this.register(offender, 'series', index);
      for (const incident of incidents) this.addPass(offender, incident);
      const skipped = distinctDraws(rng, incidents.length, kDecoysPerSeries);
      for (const skip of skipped) {
        const vehicle = fleet.addVehicle(rng);
        const passed = incidents.flatMap((_, k) => (k === skip ? [] : [k]));
        this.decoys.push({ vehicle, series: index, incidents: passed });
        this.register(vehicle, 'decoy', this.decoys.length - 1);
        for (const k of passed) this.addPass(vehicle, incidents[k]!);
      }
    }
  }

  private addPass(vehicle: number, incident: Incident): void {
    const day = Math.floor(incident.at / kMsPerDay);
    this.passesByDay.set(day, [...(this.passesByDay.get(day) ?? []), { vehicle, incident }]);
  }

  private register(vehicle: number, kind: PlantKind, index: number): void {
    const k = vehicle - this.fleet.background;
    this.kindOf[k] = kind;
    this.indexOf[k] = index;
    this.emitted[k] = { lines: [], ts: [] };
  }

  /** Whether commuter c leads a convoy (the only per-pass hook; a quick test for the others). */
  leads(c: number): boolean {
    return this.ledBy.has(c);
  }

  /**
   * The followers' passes of one leg of leader c on local day `day`: `times[s]` is the leader's time at its
   * s-th camera of the leg (captured or not), `cameras[s]` that camera.
   */
  followLeg(c: number, day: number, leg: number, times: ArrayLike<number>, cameras: ArrayLike<number>, stops: number, out: PendingReads): void {
    const seed = this.options.seed;
    for (const convoy of this.ledBy.get(c)!) {
      if (day < convoy.firstDay || day >= convoy.lastDay) continue;
      const f = convoy.follower;
      for (let s = 0; s < stops; s++) {
        if (hashFloat(seed ^ kSaltFollow, f, day + 1_000_000, leg * 8 + s) >= this.options.captureRate) continue;
        const jitter = Math.round((hashFloat(seed ^ kSaltFollowJitter, f, day + 1_000_000, leg * 8 + s) * 2 - 1) * 2000);
        out.push(times[s]! + convoy.gapMs + jitter, f, cameras[s]!);
      }
    }
  }

  /** The twins' and the visitors' passes of local day `day` (local ms). */
  planDay(day: number, out: PendingReads): void {
    const seed = this.options.seed;
    const dayStart = day * kMsPerDay;
    const h = day + 1_000_000;
    if (isWeekday(dayStart)) {
      for (const clone of this.clonesByDay.get(day) ?? []) {
        const t = clone.twin;
        const stops = clone.cameras.length;
        for (let leg = 0; leg < 2; leg++) {
          const usual = leg === 0 ? this.fleet.morningMs[clone.original]! : this.fleet.eveningMs[clone.original]!;
          const departure = dayStart + usual + Math.round((2 * hashFloat(seed ^ kSaltTwinShift, t, h, leg) - 1) * 20 * kMsPerMinute);
          const total = clone.offsetsMs[stops - 1]!;
          for (let s = 0; s < stops; s++) {
            if (hashFloat(seed ^ kSaltTwin, t, h, leg * 8 + s) >= this.options.captureRate) continue;
            const at = leg === 0 ? s : stops - 1 - s;
            const offset = leg === 0 ? clone.offsetsMs[at]! : total - clone.offsetsMs[at]!;
            const light = Math.floor(hashFloat(seed ^ kSaltTwinStop, t, h, leg * 8 + s) * 60_000) - 30_000;
            out.push(Math.floor(departure + offset) + light, t, clone.cameras[at]!);
          }
        }
      }
    }
    for (const v of this.visitsByDay.get(day) ?? []) {
      // a stay between 07:00 and 21:00, read 1-3 times within it (from the visitor's own hash stream)
      const x = (k: number) => hashFloat(seed ^ 0x7151, v.vehicle, h, k);
      const arrive = dayStart + 7 * kMsPerHour + Math.floor(x(0) * 14 * kMsPerHour);
      const reads = 1 + Math.floor(x(1) * 3);
      let t = arrive;
      for (let r = 0; r < reads; r++) {
        out.push(t, v.vehicle, v.camera);
        t += 2 * kMsPerMinute + Math.floor(x(2 + r) * 13 * kMsPerMinute);
      }
    }
    for (const pass of this.passesByDay.get(day) ?? []) {
      // arriving before the incident, and on one pass in two leaving after it; each pass captured or missed
      const x = (k: number) => hashFloat(seed ^ kSaltSeries, pass.vehicle, h, k);
      const at = pass.incident.at;
      const times = x(1) < 0.5 ? [at - Math.floor(x(0) * kIncidentPassMs)] : [at - Math.floor(x(0) * kIncidentPassMs), at + Math.floor(x(2) * kIncidentPassMs)];
      times.forEach((t, k) => {
        if (x(3 + k) < this.options.captureRate) out.push(t, pass.vehicle, pass.incident.camera);
      });
    }
  }

  /** Notes a planted vehicle's read as emitted at line `line`, time `ts` (epoch ms). */
  record(vehicle: number, line: number, ts: number): void {
    const e = this.emitted[vehicle - this.fleet.background]!;
    e.lines.push(line);
    e.ts.push(ts);
  }

  /** What a planted vehicle is (undefined: a background vehicle); a cloned plate's twin names its original. */
  refOf(vehicle: number): PlantRef | undefined {
    const k = vehicle - this.fleet.background;
    if (k < 0) return undefined;
    const kind = this.kindOf[k]!, index = this.indexOf[k]!;
    return kind === 'cloned' ? { kind, index, original: this.clones[index]!.original } : { kind, index };
  }

  /** The truth file's `planted` section (see ndjson-writer.ts): every plant and the lines of its reads. */
  truth(): PlantedTruth {
    const { fleet, geography } = this;
    const day = (d: number) => formatTimestamp(d * kMsPerDay - this.options.utcOffsetMinutes * 60_000);
    const reads = (vehicle: number) => {
      const e = this.emitted[vehicle - fleet.background]!;
      const utcDays = new Set(e.ts.map((t) => Math.floor(t / kMsPerDay)));
      return {
        reads: e.lines.length,
        days: utcDays.size,
        ...(e.ts.length > 0 ? { first: formatTimestamp(Math.min(...e.ts)), last: formatTimestamp(Math.max(...e.ts)) } : {}),
        lines: e.lines,
      };
    };
    return {
      convoys: this.convoys.map((c) => ({
        leader: fleet.plate[c.leader]!, follower: fleet.plate[c.follower]!, gapSeconds: c.gapMs / 1000,
        from: day(c.firstDay), to: day(c.lastDay), ...reads(c.follower),
      })),
      clonedPlates: this.clones.map((c) => ({
        plate: fleet.plate[c.twin]!, region: fleet.region[c.twin]!, twinCity: geography.cities[c.city]!.name,
        twinCameras: c.cameras.map((k) => geography.cameras[k]!.id), from: day(c.firstDay), to: day(c.lastDay), ...reads(c.twin),
      })),
      frequentVisitors: this.visitors.map((v) => {
        const cam = geography.cameras[v.camera]!;
        return { plate: fleet.plate[v.vehicle]!, camera: cam.id, tenant: geography.tenants[cam.tenant]!, lat: cam.lat, lon: cam.lon, ...reads(v.vehicle) };
      }),
      incidentSeries: this.series.map((s) => ({
        plate: fleet.plate[s.offender]!,
        incidents: s.incidents.map((i) => {
          const cam = geography.cameras[i.camera]!;
          return { camera: cam.id, tenant: geography.tenants[cam.tenant]!, lat: cam.lat, lon: cam.lon, at: formatTimestamp(i.at - this.options.utcOffsetMinutes * 60_000) };
        }),
        ...reads(s.offender),
      })),
      seriesDecoys: this.decoys.map((d) => ({ plate: fleet.plate[d.vehicle]!, series: d.series, incidents: d.incidents, ...reads(d.vehicle) })),
    };
  }
}

/** A planted vehicle's reads in the truth file. */
export interface PlantedReads {
  /** Reads emitted (some may be misreads: see `misreads` by line), on this many distinct UTC days. */
  reads: number;
  days: number;
  first?: string;
  last?: string;
  /** 0-based lines of the data file. */
  lines: number[];
}

export interface PlantedTruth {
  convoys: Array<{ leader: string; follower: string; gapSeconds: number; from: string; to: string } & PlantedReads>;
  clonedPlates: Array<{ plate: string; region: string; twinCity: string; twinCameras: string[]; from: string; to: string } & PlantedReads>;
  frequentVisitors: Array<{ plate: string; camera: string; tenant: string; lat: number; lon: number } & PlantedReads>;
  /**
   * Incident series and their decoys (added within version 2: absent from files written before them, so
   * readers take a missing list as none). `at` is the incident's time; the offender's passes lie within
   * 40 minutes of it. A decoy names its series (index) and the incidents it passed (indexes).
   */
  incidentSeries?: Array<{ plate: string; incidents: Array<{ camera: string; tenant: string; lat: number; lon: number; at: string }> } & PlantedReads>;
  seriesDecoys?: Array<{ plate: string; series: number; incidents: number[] } & PlantedReads>;
}

/** `count` distinct integers of [0, n) (all of them if count ≥ n), in draw order. */
function distinctDraws(rng: Prng, n: number, count: number): number[] {
  if (count >= n) {
    const all = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    return all;
  }
  const seen = new Set<number>();
  const out: number[] = [];
  while (out.length < count) {
    const x = rng.int(n);
    if (!seen.has(x)) {
      seen.add(x);
      out.push(x);
    }
  }
  return out;
}
