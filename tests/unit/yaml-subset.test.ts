import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { simpleYamlMapping } from '../../lib/api/yaml-subset.ts';

describe('simpleYamlMapping', () => {
  it('reads nested block mappings of string scalars as YAML.parse does', () => {
    const text = 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: app\n  annotations:\n    a.b/c: "quoted"\n    d: \'single\'\ninfo:\n  description: a package\nempty:\n';
    expect(simpleYamlMapping(text)).toEqual(YAML.parse(text));
  });

  it('reads blank lines, deeper nesting and a last line without a newline as YAML.parse does', () => {
    const text = 'a:\n\n  b:\n      c: "x y"\n      d: e/f.g\n  h: i\n   \nj: k';
    expect(simpleYamlMapping(text)).toEqual(YAML.parse(text));
    expect(simpleYamlMapping(text)).toEqual({ a: { b: { c: 'x y', d: 'e/f.g' }, h: 'i' }, j: 'k' });
  });

  it.each([
    ['a sequence', 'items:\n- a\n'],
    ['a comment', 'a: b # c\n'],
    ['a number', 'a: 1\n'],
    ['a boolean', 'a: true\n'],
    ['flow style', 'a: {b: c}\n'],
    ['a duplicate key', 'a: b\na: c\n'],
    ['odd indentation', 'a:\n  b: c\n   d: e\n'],
    ['nothing', '\n'],
    ['a document marker', '---\na: b\n'],
    ['a directive', '%YAML 1.2\n---\na: b\n'],
    ['a no-break space in the indentation', 'a:\n \u00a0b: c\n'],
    ['a no-break space after the colon', 'a:\u00a0b\n'],
    ['a trailing space', 'a: b \n'],
    ['a key with a space', 'a b: c\n'],
    ['a value with ": "', 'a: b: c\n'],
  ])('leaves %s to the full parser', (_what, text) => {
    expect(simpleYamlMapping(text)).toBeUndefined();
  });
});
