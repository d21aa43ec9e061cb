/**
 * A cheap exact pre-test for the cloned-plates pair test: from the stored coordinates' integer deltas, an
 * upper bound on the haversine distance, so that a pair that cannot be ≥ minDistanceM apart, or cannot be
 * faster than maxSpeedKmh, is dropped without the trigonometry. Consecutive reads of one vehicle are mostly
 * hours apart and within a city: the bound rejects nearly all of them.
 *
 * Why it never changes an answer: the great-circle distance is at most R·(|Δφ| + |Δλ|) (along the meridian,
 * then along the parallel, whose arc is R·|Δλ|·cos φ ≤ R·|Δλ|; the raw |Δλ| is at least the wrapped one).
 * The computed haversine differs from the exact distance by far less than the slack added (a millionth,
 * plus a millimetre for the rounding of the degrees), and division and multiplication by positive numbers
 * are monotone in floating point, so bound ≤ threshold implies computed ≤ threshold.
 */
import { kCoordScale } from '../../core/segment.js';
import { speedKmh } from '../../model/analytics.js';
import { kEarthRadiusM } from '../reference/geo.js';

/** Metres of arc per unit of a stored coordinate (degrees × 1e7) on the mean Earth radius. */
const kMetresPerE7 = (kEarthRadiusM * Math.PI) / 180 / kCoordScale;

/**
 * Whether two reads `dLatE7`, `dLonE7` apart (stored units, any sign) and `dtMs` apart in time certainly fail
 * the pair test (distance ≥ minDistanceM and speed > maxSpeedKmh).
 */
export function cannotPair(dLatE7: number, dLonE7: number, dtMs: number, minDistanceM: number, maxSpeedKmh: number): boolean {
  const bound = (Math.abs(dLatE7) + Math.abs(dLonE7)) * kMetresPerE7 * (1 + 1e-6) + 1e-3;
  return bound < minDistanceM || !(speedKmh(bound, dtMs) > maxSpeedKmh);
}
