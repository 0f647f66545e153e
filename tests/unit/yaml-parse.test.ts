import YAML, { type Document } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parseDocument } from '../../lib/yaml-parse.ts';
import { cpuTimed } from '../support/cpu-time.ts';

// Parsing without yaml's quadratic duplicate-key check must still find every duplicate key, where
// yaml finds it, and leave everything else as yaml leaves it.

// The first line of a message: where; yaml's context lines after it differ in detail.
const errorsOf = (docs: Document[]) => docs.map((d) => d.errors.map((e) => [e.code, e.pos, e.message.split('\n')[0]]));

describe('linear YAML parsing', () => {
  it.each([
    'a: 1\na: 2\n',
    'x:\n  b: 1\n  c: 2\n  b: 3\n',
    '{a: 1, a: 2}\n',
    '&x a: 1\na: 2\n',
    '? a\n: 1\n? a\n: 2\n',
    'a: 1\n"a": 2\n',
    '1: a\n"1": b\n',
    'a: [\na: 1\na: 2\n',
    'k:\n  - {p: 1, p: 2}\n',
    'a: 1\n---\nb: 1\nb: 2\n',
    'a: 1\n!!str a: 2\n',
  ])('reports the errors yaml reports for %j', (text) => {
    const ours = parseAllDocuments(text) as Document[];
    const theirs = YAML.parseAllDocuments(text) as Document[];
    expect(errorsOf(ours)).toEqual(errorsOf(theirs));
    expect(ours.map((d) => d.toJS())).toEqual(theirs.map((d) => d.toJS()));
    expect(errorsOf([parseDocument(text.split('---')[0])])).toEqual(errorsOf([YAML.parseDocument(text.split('---')[0])]));
  });

  it('parses a map of 100,000 keys in linear time', () => {
    const text = (n: number) => `data:\n${Array.from({ length: n }, (_, i) => `  k${i}: v\n`).join('')}`;
    const time = (n: number) => {
      const source = text(n);
      const { ms, value } = cpuTimed(() => parseAllDocuments(source) as Document[]);
      expect(value[0].errors).toEqual([]);
      return ms;
    };
    time(5_000);
    const small = Math.min(time(25_000), time(25_000));
    expect(time(100_000) / small).toBeLessThan(9);
  });
});
