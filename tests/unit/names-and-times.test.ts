import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deterministicUid } from '../../lib/api/names.ts';
import { nowTimestamp, secondsTimestamp } from '../../lib/util.ts';

describe('secondsTimestamp', () => {
  it.each([0, 59, 86_399, 86_400, 951_782_400, 1_700_000_000, 1_709_251_199, 4_102_444_800, 253_402_300_799])('writes %i seconds as nowTimestamp does', (s) => {
    expect(secondsTimestamp(s)).toBe(nowTimestamp(new Date(s * 1000)));
  });

  it.each([-1, 1.5, 253_402_300_800])('formats %d, outside what it writes itself, as nowTimestamp does', (s) => {
    expect(secondsTimestamp(s)).toBe(nowTimestamp(new Date(s * 1000)));
  });

  it('gives each of a run of consecutive seconds its own text', () => {
    const seen = new Set<string>();
    for (let s = 1_700_000_000; s < 1_700_000_000 + 2 * 86_400; s += 7) {
      const text = secondsTimestamp(s);
      expect(text).toBe(nowTimestamp(new Date(s * 1000)));
      seen.add(text);
    }
    expect(seen.size).toBe(Math.ceil((2 * 86_400) / 7));
  });
});

describe('deterministicUid', () => {
  it('is the name-based (version 5) UUID of kind, namespace and name', () => {
    const h = createHash('sha1').update('packagerevision:porch.kpt.dev/v1alpha1/p/r.g00.p5.v1').digest();
    const hex = h.toString('hex');
    expect(deterministicUid('packagerevision', 'p', 'r.g00.p5.v1')).toBe('982f0382-9f1e-58c3-9e5e-01bcb4575257');
    expect(hex.slice(0, 12)).toBe('982f03829f1e');
  });

  it('sets the version and variant bits', () => {
    for (const name of ['a', 'b', 'ü', 'repo.pkg.ws']) {
      expect(deterministicUid('package', 'default', name)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });
});
