import { describe, expect, it } from 'vitest';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from '../../lib/api/selectors.ts';
import { StatusError } from '../../lib/errors.ts';

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front', 'kpt.dev/latest-revision': 'true' };
  const cases: [string, boolean][] = [
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app=db', false],
    ['app in (db, web)', true],
    ['app notin (web)', false],
    ['tier', true],
    ['!tier', false],
    ['!missing', true],
    ['app=web,tier=back', false],
    ['kpt.dev/latest-revision=true', true],
    ['missing!=x', true],
  ];
  for (const [sel, want] of cases) it(`${sel} → ${want}`, () => expect(matchesLabels(parseLabelSelector(sel), labels)).toBe(want));

  it('rejects malformed selectors with 400', () => {
    for (const bad of ['app=(web', 'app in web', '=web', 'a b', 'app=web,,x=y']) {
      try {
        parseLabelSelector(bad);
        expect.unreachable(`${bad} parsed`);
      } catch (err) {
        expect(err).toBeInstanceOf(StatusError);
        expect((err as StatusError).code).toBe(400);
      }
    }
  });
});

describe('field selectors', () => {
  it('applies every requirement, not only the first', () => {
    const sel = parseFieldSelector('spec.repository=blueprints,spec.lifecycle=Published');
    const values: Record<string, string> = { 'spec.repository': 'blueprints', 'spec.lifecycle': 'Draft' };
    expect(matchesFields(sel, (f) => values[f])).toBe(false);
    values['spec.lifecycle'] = 'Published';
    expect(matchesFields(sel, (f) => values[f])).toBe(true);
  });
  it('supports != and rejects garbage', () => {
    expect(matchesFields(parseFieldSelector('metadata.name!=a'), () => 'a')).toBe(false);
    expect(() => parseFieldSelector('justaword')).toThrowError(/invalid selector/);
  });
});
