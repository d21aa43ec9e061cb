/**
 * src/server/request-audit.ts `defaultParams`: the params an audit record holds when a handler sets none
 * (path params, then the query string, then the body's fields without purpose/case). Keys a client may send
 * that are special to JS objects (`__proto__`, `constructor`, `toString`) stay plain own keys, with their
 * values, in order: the record shows what was asked, and the prototype of the params is never touched.
 */
import { describe, expect, it } from 'vitest';
import { defaultParams } from '../src/server/request-audit.js';

describe('defaultParams', () => {
  it('keeps every key as an own enumerable key, __proto__ included, in order', () => {
    const body = JSON.parse('{"plate":"AB1","__proto__":{"polluted":1},"constructor":"c","toString":2,"purpose":"p","case":"k"}') as unknown;
    const p = defaultParams({ id: 'x1' }, new URLSearchParams('limit=5&a=1&a=2'), body);
    expect(Object.getPrototypeOf(p)).toBe(Object.prototype);
    expect((p as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.keys(p)).toEqual(['id', 'limit', 'a', 'plate', '__proto__', 'constructor', 'toString']);
    expect(JSON.stringify(p)).toBe('{"id":"x1","limit":"5","a":["1","2"],"plate":"AB1","__proto__":{"polluted":1},"constructor":"c","toString":2}');
    for (const k of Object.keys(p)) expect(Object.getOwnPropertyDescriptor(p, k)).toMatchObject({ enumerable: true, writable: true, configurable: true });
  });

  it('a later source overrides an earlier one under the same key (body over query over path)', () => {
    const p = defaultParams({ id: 'path' }, new URLSearchParams('id=query'), { id: 'body' });
    expect(p).toEqual({ id: 'body' });
  });
});
