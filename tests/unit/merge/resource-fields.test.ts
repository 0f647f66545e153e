import { describe, expect, it } from 'vitest';
import { MergeError, mergePackage } from '../../../lib/merge/package.ts';

// Field-level resource-merge of one resource, case by case. original = the upstream revision the
// package came from, updated = the new upstream revision, local = the downstream package now.
// Where the outcome is kpt's own choice, the test name says so; kpt-reference.test.ts checks the
// same rules against the real `kpt pkg update`.

const cm = (data: string, meta = '') => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n${meta}data:\n${data}`;
const mergeFile = (file: string, original: string, updated: string, local: string) => mergePackage({ original: { [file]: original }, updated: { [file]: updated }, local: { [file]: local } })[file];
const merge = (original: string, updated: string, local: string) => mergeFile('cm.yaml', original, updated, local);
const thing = (spec: string) => `apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: t\nspec:\n${spec}`;

describe('resource-merge, fields of one resource', () => {
  // [name, original, updated, local, expected]: the data of one ConfigMap on each side.
  const dataCases: [string, string, string, string, string][] = [
    ['takes a field changed only upstream', '  x: "1"\n  y: "1"\n', '  x: "2"\n  y: "1"\n', '  x: "1"\n  y: "1"\n', '  x: "2"\n  y: "1"\n'],
    ['keeps a field changed only locally', '  x: "1"\n  y: "1"\n', '  x: "1"\n  y: "1"\n', '  x: "1"\n  y: "9"\n', '  x: "1"\n  y: "9"\n'],
    ['combines different fields changed on each side', '  x: "1"\n  y: "1"\n', '  x: "2"\n  y: "1"\n', '  x: "1"\n  y: "9"\n', '  x: "2"\n  y: "9"\n'],
    ['kpt rule: a field both sides changed takes the upstream value (upstream wins the conflict)', '  x: "1"\n', '  x: "10"\n', '  x: "100"\n', '  x: "10"\n'],
    ['kpt rule: a field both sides added with different values takes the upstream value', '  x: "1"\n', '  x: "1"\n  y: up\n', '  x: "1"\n  y: local\n', '  x: "1"\n  y: up\n'],
    ['takes upstream type and style with its value, keeping the local comment', '  x: "1"\n', '  x: 2\n', '  x: "1" # keep me\n', '  x: 2 # keep me\n'],
    ['kpt rule: a field upstream removed is removed, even one the local package changed', '  x: "1"\n  y: "1"\n', '  x: "1"\n', '  x: "1"\n  y: "9"\n', '  x: "1"\n'],
    ['a field removed locally stays removed unless upstream changed it, then it comes back', '  x: "1"\n  y: "1"\n  z: "1"\n', '  x: "1"\n  y: "1"\n  z: "2"\n', '  x: "1"\n', '  x: "1"\n  z: "2"\n'],
    ['appends fields upstream added, in sorted order as kpt does, after the local ones', '  m: "1"\n', '  m: "1"\n  b: "1"\n  a: "1"\n', '  m: "1"\n  local: "1"\n', '  m: "1"\n  local: "1"\n  a: "1"\n  b: "1"\n'],
  ];
  it.each(dataCases)('%s', (_name, original, updated, local, expected) => {
    expect(merge(cm(original), cm(updated), cm(local))).toBe(cm(expected));
  });

  it('kpt rule: an explicit null upstream removes the field', () => {
    const d = (spec: string) => `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n${spec}`;
    expect(mergeFile('d.yaml', d('  replicas: 1\n'), d('  replicas: 1\n  paused: null\n'), d('  replicas: 1\n  paused: true\n'))).toBe(d('  replicas: 1\n'));
  });

  it('kpt rule: a map the local package deleted comes back with only the fields upstream changed', () => {
    const out = mergeFile('t.yaml', thing('  keep: "1"\n  m:\n    a: "1"\n    b: "1"\n'), thing('  keep: "2"\n  m:\n    a: "2"\n    b: "1"\n'), thing('  keep: "1"\n'));
    expect(out).toBe(thing('  keep: "2"\n  m:\n    a: "2"\n'));
  });

  it('kpt rule: a map upstream deleted keeps only the fields the local package added to it', () => {
    const out = mergeFile('t.yaml', thing('  p:\n    a: "1"\n'), thing('  q: "1"\n'), thing('  p:\n    a: "1"\n    mine: "1"\n'));
    expect(out).toBe(thing('  p:\n    mine: "1"\n  q: "1"\n'));
  });

  it('kpt quirk: a map deleted locally that upstream left alone comes back empty ({}), as kpt writes it', () => {
    const d = (meta: string, replicas: string) => `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n${meta}spec:\n  replicas: ${replicas}\n`;
    const out = mergeFile('d.yaml', d('  labels:\n    app: web\n', '1'), d('  labels:\n    app: web\n', '2'), d('', '1'));
    expect(out).toBe(d('  labels: {}\n', '2'));
  });

  it('fails with a MergeError naming the field when the sides hold different kinds of value there', () => {
    const run = () => merge(cm('  x: "1"\n', '  labels:\n    a: b\n'), cm('  x: "1"\n', '  labels:\n    a: c\n'), cm('  x: "1"\n', '  labels: none\n'));
    expect(run).toThrow(MergeError);
    expect(run).toThrow(/ConfigMap cm in cm.yaml: field metadata.labels holds different kinds of value \(local: scalar, original upstream: map, new upstream: map\)/);
  });

  it('keeps the local file’s comments, field order and blank lines', () => {
    const local = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm # the name\n  # labels are ours\n  labels:\n    team: blue\n\ndata:\n  # z first on purpose\n  z: "1" # last first\n  a: "1"\n';
    const out = merge(cm('  a: "1"\n  z: "1"\n'), cm('  a: "2"\n  z: "1"\n'), local);
    expect(out).toBe(local.replace('  a: "1"\n', '  a: "2"\n'));
  });

  it('leaves the local file byte for byte when upstream did not change its resource', () => {
    const local = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {x: "1"}   # odd style\n';
    expect(merge(cm('  x: "1"\n'), cm('  x: "1"\n'), local)).toBe(local);
  });
});
