import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { simpleYamlMapping, simpleYamlSections } from '../../lib/api/yaml-subset.ts';

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

describe('simpleYamlSections', () => {
  const SECTIONS = [['upstream'], ['metadata', 'labels']];
  const doc = (labels: string, rest = '') => `apiVersion: v1\nmetadata:\n  name: a\n${labels}${rest}info:\n  description: d\n`;

  it('gives the same text for documents that differ outside the sections', () => {
    const a = simpleYamlSections(doc('  labels:\n    x: "1"\n'), SECTIONS);
    const b = simpleYamlSections(doc('  labels:\n    x: "1"\n').replace('description: d', 'description: e').replace('name: a', 'name: b'), SECTIONS);
    expect(a).toBeDefined();
    expect(a).toBe(b);
  });

  it('gives different texts when a section differs or is missing; labels under another key are no section', () => {
    const texts = [
      doc('  labels:\n    x: "1"\n'),
      doc('  labels:\n    x: "2"\n'),
      doc('  labels:\n    x: "1"\n    y: z\n'),
      doc(''),
      doc('  labels:\n'),
      doc('', 'other:\n  labels:\n    x: "1"\n'),
      doc('  labels:\n    x: "1"\n', 'upstream:\n  type: git\n'),
    ].map((t) => simpleYamlSections(t, SECTIONS));
    expect(texts.every((t) => t !== undefined)).toBe(true);
    expect(texts[5]).toBe(texts[3]);
    expect(new Set(texts.filter((_, i) => i !== 5)).size).toBe(texts.length - 1);
  });

  it('answers undefined exactly where simpleYamlMapping does', () => {
    for (const text of ['a: b\na: c\n', 'a: [b]\n', 'a:\n  b: c\n   d: e\n', 'metadata:\n  labels:\n    x: 1\n', doc('  labels:\n    x: "1"\n')]) {
      expect(simpleYamlSections(text, SECTIONS) === undefined).toBe(simpleYamlMapping(text) === undefined);
    }
  });
});
