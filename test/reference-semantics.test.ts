import { describe, expect, it } from 'vitest';
import { normalisePattern, normalisePlate, ocrMap } from '../src/model/plate.js';
import { levenshtein, osaDistance, wildcardMatch, plateDistance } from '../src/query/reference/index.js';

describe('reference semantics: named edge cases', () => {
  it('normalises ASCII-only', () => {
    expect(normalisePlate('7abc-123')).toBe('7ABC123');
    expect(normalisePlate('ßıA1')).toBe('A1');
    expect(normalisePattern('7ab?12*')).toBe('7AB?12*');
  });
  it('maps OCR classes to the first member', () => {
    expect(ocrMap('ODQ0ILZSGBV')).toBe('0000112568U');
  });
  it('wildcards are anchored LIKE', () => {
    expect(wildcardMatch('*', 'A')).toBe(true);
    expect(wildcardMatch('?', 'A')).toBe(true);
    expect(wildcardMatch('?', 'AB')).toBe(false);
    expect(wildcardMatch('?BC?', 'ABCD')).toBe(true);
    expect(wildcardMatch('A*', 'BA')).toBe(false);
  });
  it('edit distances', () => {
    expect(levenshtein('ABC123', 'ABC132')).toBe(2);
    expect(osaDistance('ABC123', 'ABC132')).toBe(1);
    expect(osaDistance('CA', 'ABC')).toBe(3); // OSA is not a metric: no edits inside a swap
    expect(plateDistance({ pattern: '0B', mode: 'exact', maxEdits: 0, ocr: true, transpositions: false }, 'O8')).toBe(0);
  });
});
