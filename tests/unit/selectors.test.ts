import { describe, expect, it } from 'vitest';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from '../../lib/api/selectors.ts';
import { StatusError } from '../../lib/errors.ts';
import { cpuTimed } from '../support/cpu-time.ts';

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

describe('field selector parsing', () => {
  const old = (part: string) => /^([^=!]+?)\s*(==|!=|=)\s*(.*)$/.exec(part);

  it('reads the operator as the first = or !, as before', () => {
    for (const part of ['a=b', 'a==b', 'a!=b', 'a = b', 'a  ==  b c', 'a=b=c', 'a!=', 'x.y=', '=b', '!=b', 'a!b', 'a', 'a=\nb', 'a\n=b', 'a!==b', 'a=!b']) {
      const m = old(part);
      let ours: unknown;
      try {
        ours = parseFieldSelector(part)[0];
      } catch {
        ours = null;
      }
      expect(ours, part).toEqual(m ? { field: m[1].trim(), op: m[2] === '!=' ? 'neq' : 'eq', value: m[3].trim() } : null);
    }
  });

  it('parses a long adversarial selector in linear time', () => {
    // A field followed by thousands of spaces and no operator: the old regex tried every split.
    const adversarial = `a${' '.repeat(9_997)}b`;
    const { ms } = cpuTimed(() => expect(() => parseFieldSelector(adversarial)).toThrowError(/can't understand/));
    expect(ms).toBeLessThan(30);
  });

  it('refuses a selector longer than 10,000 characters with a 400', () => {
    for (const parse of [parseFieldSelector, parseLabelSelector]) {
      try {
        parse(`a${' '.repeat(200_000)}b`);
        expect.unreachable('parsed');
      } catch (err) {
        expect((err as StatusError).code).toBe(400);
        expect((err as StatusError).message).toContain('longer than 10000 characters');
      }
    }
  });
});
