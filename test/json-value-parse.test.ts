/**
 * src/server/json-value.ts held equal to its definition, JSON.parse: for random JSON values written in random
 * ways (spacing, number forms, repeated keys, `__proto__`, escapes, raw lone surrogates, deep nesting) the same
 * value — own keys in the same order, the same prototypes, -0 kept — and for random damage to those texts the
 * same value or the same error (its message is the 400's, src/server/body.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJsonValue } from '../src/server/json-value.js';

/** Whether `a` and `b` are the same JSON value: key order, prototypes and -0 included. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b) || Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Reflect.ownKeys(a), kb = Reflect.ownKeys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i]!;
    if (k !== kb[i]) return false;
    const da = Object.getOwnPropertyDescriptor(a, k)!, db = Object.getOwnPropertyDescriptor(b, k)!;
    if (da.enumerable !== db.enumerable || da.writable !== db.writable || !same(da.value, db.value)) return false;
  }
  return true;
}

/** The outcome of a reader: its value, or its error's constructor and message. */
function outcome(read: (t: string) => unknown, text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: read(text) };
  } catch (err) {
    return { ok: false, error: `${(err as Error).constructor.name}: ${(err as Error).message}` };
  }
}

function expectSame(text: string): void {
  const want = outcome(JSON.parse, text);
  const got = outcome(parseJsonValue, text);
  if (want.ok && got.ok) {
    if (!same(got.value, want.value)) expect.fail(`different value for ${JSON.stringify(text)}`);
  } else {
    expect(got).toEqual(want);
  }
}

// characters a plate, a name or a free text may hold: the plate alphabet, JSON's own, controls, non-ASCII, surrogates
const charArb = fc.oneof(
  fc.constantFrom(...'ABCXYZ0189abz ?*-_.:,{}[]"\\/'.split('')),
  fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('é', 'ß', 'ı', '€', '日', '\u2028', '\u2029', '\ufeff', '\ud83d\ude97', '\ud800', '\udc00', '\u007f'),
);
const stringArb = fc.array(charArb, { maxLength: 14 }).map((cs) => cs.join(''));
const keyArb = fc.oneof(
  stringArb,
  fc.constantFrom('plates', 'plate', 'from', 'to', '__proto__', 'constructor', 'toString', 'length', '0', '1', '10', '-1', '01', '4294967295', ''),
);
const numberArb = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, 2 ** 53 + 1, 0.1),
);

/** A JSON value as text, written one of several ways JSON allows. */
const jsonTextArb: fc.Arbitrary<string> = fc.letrec<{ v: string }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    stringArb.map((s) => JSON.stringify(s)),
    // a string as sent raw: lone surrogates and non-ASCII unescaped (only `"`, `\` and controls escaped)
    stringArb.map((s) => `"${s.replace(/["\\\u0000-\u001f]/g, (c) => JSON.stringify(c).slice(1, -1))}"`),
    numberArb.map((n) => (Number.isFinite(n) ? JSON.stringify(n) : '0')),
    fc.constantFrom('0', '-0', '1E5', '1e+05', '-1.50e-3', '0.0', '123456789012345678901234567890', '1E400', '-1e-400', '10.000'),
    fc.constantFrom('true', 'false', 'null'),
    fc.array(tie('v'), { maxLength: 5 }).map((vs) => `[${vs.join(',')}]`),
    fc.array(fc.tuple(keyArb, tie('v')), { maxLength: 5 }).map((kvs) => `{${kvs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  ),
})).v;

const spaceArb = fc.constantFrom('', ' ', '\n', '\t', '\r\n  ', '\u00a0', '\v', '\f');

/** The text with JSON whitespace (and, now and then, a character JSON does not take as whitespace) between tokens. */
function spaced(text: string, spaces: string[]): string {
  let i = 0;
  return text.replace(/[,:[\]{}]/g, (c) => `${spaces[i++ % spaces.length] ?? ''}${c}${spaces[i++ % spaces.length] ?? ''}`);
}

describe('parseJsonValue is JSON.parse', () => {
  it('gives the same value for JSON texts, however written', () => {
    fc.assert(
      fc.property(jsonTextArb, fc.array(fc.constantFrom('', ' ', '\n', '\t', '\r'), { minLength: 1, maxLength: 4 }), (text, spaces) => {
        expectSame(text);
        expectSame(spaced(text, spaces));
        expectSame(` ${text}\n`);
      }),
      { numRuns: 3000 },
    );
  });

  it('gives the same value or the same error for damaged texts', () => {
    const damage = fc.oneof(
      fc.tuple(fc.constant('cut'), fc.nat(), fc.nat({ max: 3 })),
      fc.tuple(fc.constant('insert'), fc.nat(), fc.constantFrom(',', ':', '"', '[', ']', '{', '}', '\\', '-', '.', 'e', '0', '1', 't', 'n', ' ', '\u0000', '\u00a0')),
      fc.tuple(fc.constant('replace'), fc.nat(), fc.constantFrom(',', ':', '"', ']', '}', '+', 'E', '0', 'x', '\n')),
    );
    fc.assert(
      fc.property(jsonTextArb, fc.array(damage, { minLength: 1, maxLength: 3 }), spaceArb, (text, hurts, space) => {
        let t = text;
        for (const [kind, at, what] of hurts) {
          const i = t.length === 0 ? 0 : at % (t.length + 1);
          if (kind === 'cut') t = t.slice(0, i) + t.slice(i + 1 + (what as number));
          else if (kind === 'insert') t = t.slice(0, i) + (what as string) + t.slice(i);
          else t = t.slice(0, i) + (what as string) + t.slice(i + 1);
        }
        expectSame(t);
        expectSame(space + t + space);
      }),
      { numRuns: 5000 },
    );
  });

  it('the bodies the API sees: hot lists, searches, repeated keys, __proto__, deep nesting', () => {
    const plates = Array.from({ length: 100 }, (_, i) => `AB${i}C${i % 7}`);
    expectSame(JSON.stringify({ plates, from: '2026-11-25T00:00:00.000Z', to: '2026-12-02T00:00:01.000Z', purpose: 'benchmark', case: 'BENCH-HTTP' }));
    expectSame('{"plate":"ab 12c","limit":10,"near":{"lat":52.5,"lon":13.4,"radiusM":500},"purpose":"p","case":"c"}');
    expectSame('{"a":1,"b":2,"a":3}');
    expectSame('{"__proto__":{"admin":true},"plate":"ABC123"}');
    expectSame('{"plates":{"__proto__":[1]}}');
    expectSame('{"2":1,"1":2,"b":3,"a":4,"-1":5}');
    expectSame('"\\u0041\\ud83d\\ude97"');
    expectSame(`${'['.repeat(200)}1${']'.repeat(200)}`);
    expectSame(`${'{"a":'.repeat(100)}null${'}'.repeat(100)}`);
    expectSame(`${'['.repeat(3000)}${']'.repeat(3000)}`);
    for (const t of ['', ' ', '{', '{}x', '[1,]', '{"a":1,}', '01', '-', '1.', '.5', '+1', '1e', 'tru', 'nul', 'NaN', 'Infinity', '"\u0001"', "'a'", '\ufeff{}']) expectSame(t);
  });
});
