/**
 * Per-caller rate limits: one token bucket per key (a user, `tenant/user`; or an address for callers
 * without a valid token). A request takes its route's cost; an empty bucket answers 429 with
 * `Retry-After` = whole seconds until the bucket holds enough again.
 */
import { RateLimited } from '../errors.js';

interface Bucket {
  tokens: number;
  /** ms of the last refill */
  at: number;
}

// buckets idle this long are full again, so they can be forgotten
const kIdleForgetMs = 10 * 60_000;
// sweep the map of idle buckets at most this often
const kSweepEveryMs = 60_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep = 0;

  /**
   * @param perSecond sustained requests per second per key
   * @param burst bucket size: requests that may arrive at once after a quiet spell
   */
  constructor(readonly perSecond: number, readonly burst: number) {}

  /** Takes `cost` tokens from `key`'s bucket, or throws 429 PS_RATE_LIMITED with `retryAfterSeconds`. */
  take(key: string, cost: number, now: number = Date.now()): void {
    if (cost <= 0 || !(this.perSecond > 0)) return;
    this.sweep(now);
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: this.burst, at: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
      b.at = now;
    }
    if (b.tokens >= cost) {
      b.tokens -= cost;
      return;
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((cost - b.tokens) / this.perSecond));
    throw RateLimited(`Rate limit of ${this.perSecond} requests/s (burst ${this.burst}) exceeded; retry in ${retryAfterSeconds} s`, {
      retryAfterSeconds,
    });
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < kSweepEveryMs) return;
    this.lastSweep = now;
    for (const [key, b] of this.buckets) if (now - b.at > kIdleForgetMs) this.buckets.delete(key);
  }
}
