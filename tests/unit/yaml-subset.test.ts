import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { simpleYamlMapping } from '../../lib/api/yaml-subset.ts';

describe('simpleYamlMapping', () => {
  it('reads nested block mappings of string scalars as YAML.parse does', () => {
    const text = 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: app\n  annotations:\n    a.b/c: "quoted"\n    d: \'single\'\ninfo:\n  description: a package\nempty:\n';
    expect(simpleYamlMapping(text)).toEqual(YAML.parse(text));
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
  ])('leaves %s to the full parser', (_what, text) => {
    expect(simpleYamlMapping(text)).toBeUndefined();
  });
});
