/**
 * A request body's JSON text → its value: JSON.parse's value, read without V8 internalizing the short strings.
 *
 * Why: V8's JSON.parse (Node 20) internalizes every string value of at most 10 characters, which is every plate:
 * each one is a lookup in the isolate's string table, and in a server that table is large and out of the cache.
 * A 100-plate hot-list body (~1 KB) took 35–42 µs of the server's main thread in JSON.parse against ~9 µs in a
 * loop of a fresh process; in a process holding 2M short strings the same parse takes ~55–75 µs, and 3.5–4 µs
 * when the plates are 12 characters long (bench/RESULTS.md "Issue 12: the request's path to the engine"). Here a
 * short string value is a slice of the text: a fresh string, never looked up.
 *
 * Only plain JSON is read here: any text this reader does not take — a syntax error, an escape in a string, a
 * control character, a `__proto__` key, deep nesting — is handed to JSON.parse whole, so its value, and for a
 * text that is not JSON its error, are JSON.parse's own. Held equal to JSON.parse by
 * test/json-value-parse.test.ts (random values and random damage to their text).
 */

/** What the reader gives back for a text it leaves to JSON.parse. */
const kLeave: unique symbol = Symbol('leave to JSON.parse');

// deeper than this is left to JSON.parse (so the reader's recursion never meets the stack's limit)
const kMaxDepth = 64;

// the longest string JSON.parse internalizes (V8 11, Node 20), and shorter than V8's shortest sliced string (13):
// up to this length a slice of the text is a copy
const kMaxSliced = 10;

class Reader {
  at = 0;

  constructor(private readonly text: string) {}

  /** Skips JSON's whitespace (space, tab, line feed, carriage return) and gives the next code unit, or -1. */
  next(): number {
    const t = this.text;
    let i = this.at;
    for (; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
        this.at = i;
        return c;
      }
    }
    this.at = i;
    return -1;
  }

  value(depth: number): unknown {
    const c = this.next();
    if (c === 0x22) return this.string();
    if (c === 0x7b) return depth < kMaxDepth ? this.object(depth + 1) : kLeave;
    if (c === 0x5b) return depth < kMaxDepth ? this.array(depth + 1) : kLeave;
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (this.word('true')) return true;
    if (this.word('false')) return false;
    if (this.word('null')) return null;
    return kLeave;
  }

  private word(w: string): boolean {
    if (!this.text.startsWith(w, this.at)) return false;
    this.at += w.length;
    return true;
  }

  /**
   * A string without escapes or control characters (the reader is at its opening quote). One of at most
   * kMaxSliced characters is a slice of the text (V8 copies a slice that short); a longer one is JSON.parse's
   * own value of the literal (which JSON.parse does not internalize either): a long slice would be a view of the
   * whole body, kept alive as long as the string (a stored hot list's name would hold its 64 MB body).
   */
  private string(): string | typeof kLeave {
    const t = this.text;
    const start = this.at + 1;
    for (let i = start; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c === 0x22) {
        this.at = i + 1;
        return i - start <= kMaxSliced ? t.slice(start, i) : (JSON.parse(t.slice(start - 1, i + 1)) as string);
      }
      if (c === 0x5c || c < 0x20) return kLeave;
    }
    return kLeave;
  }

  /** RFC 8259's number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, valued as JSON.parse does. */
  private number(): number | typeof kLeave {
    const t = this.text;
    const start = this.at;
    let i = start;
    if (t.charCodeAt(i) === 0x2d) i++;
    if (t.charCodeAt(i) === 0x30) i++;
    else if (isDigit(t.charCodeAt(i))) while (isDigit(t.charCodeAt(i))) i++;
    else return kLeave;
    if (t.charCodeAt(i) === 0x2e) {
      i++;
      if (!isDigit(t.charCodeAt(i))) return kLeave;
      while (isDigit(t.charCodeAt(i))) i++;
    }
    const e = t.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      i++;
      const sign = t.charCodeAt(i);
      if (sign === 0x2b || sign === 0x2d) i++;
      if (!isDigit(t.charCodeAt(i))) return kLeave;
      while (isDigit(t.charCodeAt(i))) i++;
    }
    this.at = i;
    // the same correctly rounded double as JSON.parse's (both are ECMAScript's StringToNumber of this grammar)
    return Number(t.slice(start, i));
  }

  private array(depth: number): unknown[] | typeof kLeave {
    this.at++; // [
    const out: unknown[] = [];
    if (this.next() === 0x5d) {
      this.at++;
      return out;
    }
    for (;;) {
      const v = this.value(depth);
      if (v === kLeave) return kLeave;
      out.push(v);
      const c = this.next();
      this.at++;
      if (c === 0x2c) continue;
      if (c === 0x5d) return out;
      return kLeave;
    }
  }

  private object(depth: number): Record<string, unknown> | typeof kLeave {
    this.at++; // {
    const out: Record<string, unknown> = {};
    let c = this.next();
    if (c === 0x7d) {
      this.at++;
      return out;
    }
    for (;;) {
      if (c !== 0x22) return kLeave;
      const key = this.string();
      // JSON.parse makes `__proto__` an own property; an assignment would set the prototype
      if (key === kLeave || key === '__proto__') return kLeave;
      if (this.next() !== 0x3a) return kLeave;
      this.at++;
      const v = this.value(depth);
      if (v === kLeave) return kLeave;
      // a repeated key keeps its first place and takes the last value, as in JSON.parse
      out[key] = v;
      c = this.next();
      this.at++;
      if (c === 0x7d) return out;
      if (c !== 0x2c) return kLeave;
      c = this.next();
    }
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** `JSON.parse(text)`: the same value, or the same error. */
export function parseJsonValue(text: string): unknown {
  const r = new Reader(text);
  const v = r.value(0);
  if (v !== kLeave && r.next() === -1) return v;
  return JSON.parse(text);
}
