/**
 * When reads happen: the day/night and weekday cycle, and commuter trip times.
 * Everything is computed in local time (a fixed UTC offset: the default geography is in
 * California, and the default week lies after the November DST change, so PST, UTC−8).
 */

export const kMsPerMinute = 60_000;
export const kMsPerHour = 3_600_000;
export const kMsPerDay = 86_400_000;

/**
 * Relative traffic per local hour, from the usual shape of urban loop-detector counts:
 * a night trough around 3–4 h, a morning peak at 7–8 h, a broad midday, the evening peak at 17 h.
 */
export const kWeekdayHourly: readonly number[] = [
  0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.8, 4.8, 5.2, 4.0, 3.6, 3.8, 4.0, 3.9, 4.0, 4.5, 5.2, 5.6, 4.6, 3.4, 2.6, 2.1, 1.6, 1.0,
];
/** Weekends: no commute peaks, a late-morning rise, busier late evenings. */
export const kWeekendHourly: readonly number[] = [
  1.0, 0.8, 0.6, 0.4, 0.4, 0.5, 0.8, 1.3, 2.0, 2.8, 3.5, 3.9, 4.1, 4.1, 4.0, 3.9, 3.8, 3.7, 3.4, 3.0, 2.5, 2.1, 1.7, 1.3,
];

/** Day of week of a local timestamp, 0 = Sunday (1970-01-01 was a Thursday). */
export function dayOfWeek(localMs: number): number {
  return (((Math.floor(localMs / kMsPerDay) + 4) % 7) + 7) % 7;
}

export function isWeekday(localMs: number): boolean {
  const d = dayOfWeek(localMs);
  return d >= 1 && d <= 5;
}

/**
 * Hour of the local day, 0–23 (also before 1970). By floor rather than `%`: a double `%` is a call
 * into C (fmod), and this runs once a read.
 */
export function hourOf(localMs: number): number {
  let msOfDay = localMs - Math.floor(localMs / kMsPerDay) * kMsPerDay;
  // the quotient may round to the next day when localMs is a hair short of it
  if (msOfDay < 0) msOfDay += kMsPerDay;
  return Math.floor(msOfDay / kMsPerHour);
}

/** Relative traffic intensity at a local timestamp. */
export function intensity(localMs: number): number {
  return (isWeekday(localMs) ? kWeekdayHourly : kWeekendHourly)[hourOf(localMs)]!;
}

/** Night for a camera: darker images, lower confidence, fewer make/colour classifications. */
export function isNight(localMs: number): boolean {
  const hour = hourOf(localMs);
  return hour < 6 || hour >= 19;
}

/** Number of weekdays (local) that start inside [startLocal, startLocal + days). */
export function countWeekdays(startLocal: number, spanMs: number): number {
  let n = 0;
  const first = Math.ceil(startLocal / kMsPerDay) * kMsPerDay;
  for (let d = first; d < startLocal + spanMs; d += kMsPerDay) if (isWeekday(d)) n++;
  return n;
}

// Commute departures (ms of the local day): morning around 7:45 (σ 45 min), evening around 17:15 (σ 60 min),
// clamped so that a whole trip stays inside its day.
export const kMorningMean = 7.75 * kMsPerHour;
export const kMorningSigma = 0.75 * kMsPerHour;
export const kMorningRange: readonly [number, number] = [5 * kMsPerHour, 10.5 * kMsPerHour];
export const kEveningMean = 17.25 * kMsPerHour;
export const kEveningSigma = 1 * kMsPerHour;
export const kEveningRange: readonly [number, number] = [15 * kMsPerHour, 21 * kMsPerHour];
/** A commuter leaves up to this much earlier or later than usual on a given day. */
export const kDepartureJitterMs = 10 * kMsPerMinute;
/** Longest time between two cameras of a route (drive plus a jam). */
export const kMaxHopMs = 9 * kMsPerMinute;
