import { describe, expect, it } from 'vitest';
import { copyMerge, fastForwardPackage, forceDeleteReplace, MergeError, mergePackage } from '../../../lib/merge/package.ts';

// The three-way merge, case by case: original = the upstream revision the package came from,
// updated = the new upstream revision, local = the downstream package now.

const cm = (name: string, data: Record<string, string>, extra = '') =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${extra}data:\n${Object.entries(data)
    .map(([k, v]) => `  ${k}: "${v}"\n`)
    .join('')}`;

const deploy = (containers: string) => `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n${containers}`;

describe('resource-merge', () => {
  it('takes a field changed only upstream', () => {
    const out = mergePackage({ original: { 'cm.yaml': cm('a', { x: '1', y: '1' }) }, updated: { 'cm.yaml': cm('a', { x: '2', y: '1' }) }, local: { 'cm.yaml': cm('a', { x: '1', y: '1' }) } });
    expect(out['cm.yaml']).toBe(cm('a', { x: '2', y: '1' }));
  });

  it('keeps a field changed only locally', () => {
    const out = mergePackage({ original: { 'cm.yaml': cm('a', { x: '1', y: '1' }) }, updated: { 'cm.yaml': cm('a', { x: '1', y: '1' }) }, local: { 'cm.yaml': cm('a', { x: '1', y: '9' }) } });
    expect(out['cm.yaml']).toBe(cm('a', { x: '1', y: '9' }));
  });

  it('combines changes of different fields on both sides', () => {
    const out = mergePackage({ original: { 'cm.yaml': cm('a', { x: '1', y: '1' }) }, updated: { 'cm.yaml': cm('a', { x: '2', y: '1' }) }, local: { 'cm.yaml': cm('a', { x: '1', y: '9' }) } });
    expect(out['cm.yaml']).toBe(cm('a', { x: '2', y: '9' }));
  });

  it('lets upstream win a field both sides changed, as kpt pkg update does', () => {
    const out = mergePackage({ original: { 'cm.yaml': cm('a', { x: '1' }) }, updated: { 'cm.yaml': cm('a', { x: '10' }) }, local: { 'cm.yaml': cm('a', { x: '100' }) } });
    expect(out['cm.yaml']).toBe(cm('a', { x: '10' }));
  });

  it('adds a field upstream added and removes one upstream removed', () => {
    const out = mergePackage({ original: { 'cm.yaml': cm('a', { x: '1', gone: '1' }) }, updated: { 'cm.yaml': cm('a', { x: '1', added: '1' }) }, local: { 'cm.yaml': cm('a', { x: '1', gone: '1', mine: '1' }) } });
    expect(out['cm.yaml']).toBe(cm('a', { x: '1', mine: '1', added: '1' }));
  });

  it('keeps a field removed locally when upstream did not touch it', () => {
    const out = mergePackage({ original: { 'cm.yaml': cm('a', { x: '1', y: '1' }) }, updated: { 'cm.yaml': cm('a', { x: '2', y: '1' }) }, local: { 'cm.yaml': cm('a', { x: '1' }) } });
    expect(out['cm.yaml']).toBe(cm('a', { x: '2' }));
  });

  it('adds a resource upstream added in a new file', () => {
    const out = mergePackage({ original: { 'cm.yaml': cm('a', { x: '1' }) }, updated: { 'cm.yaml': cm('a', { x: '1' }), 'b.yaml': cm('b', { z: '1' }) }, local: { 'cm.yaml': cm('a', { x: '1' }) } });
    expect(out).toEqual({ 'cm.yaml': cm('a', { x: '1' }), 'b.yaml': cm('b', { z: '1' }) });
  });

  it('deletes a resource upstream deleted, with its file when nothing else is in it', () => {
    const out = mergePackage({ original: { 'cm.yaml': cm('a', { x: '1' }), 'b.yaml': cm('b', { z: '1' }) }, updated: { 'cm.yaml': cm('a', { x: '1' }) }, local: { 'cm.yaml': cm('a', { x: '1' }), 'b.yaml': cm('b', { z: '1' }) } });
    expect(out).toEqual({ 'cm.yaml': cm('a', { x: '1' }) });
  });

  it('keeps a resource added locally, and one deleted locally stays deleted', () => {
    const out = mergePackage({
      original: { 'cm.yaml': cm('a', { x: '1' }), 'b.yaml': cm('b', { z: '1' }) },
      updated: { 'cm.yaml': cm('a', { x: '2' }), 'b.yaml': cm('b', { z: '1' }) },
      local: { 'cm.yaml': cm('a', { x: '1' }), 'mine.yaml': cm('mine', { m: '1' }) },
    });
    expect(out).toEqual({ 'cm.yaml': cm('a', { x: '2' }), 'mine.yaml': cm('mine', { m: '1' }) });
  });

  it('finds a resource the local package moved to another file', () => {
    const out = mergePackage({ original: { 'cm.yaml': cm('a', { x: '1' }) }, updated: { 'cm.yaml': cm('a', { x: '2' }) }, local: { 'moved.yaml': cm('a', { x: '1' }) } });
    expect(out).toEqual({ 'moved.yaml': cm('a', { x: '2' }) });
  });

  it('merges multi-document files document by document', () => {
    const two = (a: string, b: string) => `${cm('a', { x: a })}---\n${cm('b', { y: b })}`;
    const out = mergePackage({ original: { 'all.yaml': two('1', '1') }, updated: { 'all.yaml': two('2', '1') }, local: { 'all.yaml': two('1', '9') } });
    expect(out['all.yaml']).toBe(two('2', '9'));
  });

  it('merges containers by name: upstream adds one, local changes another', () => {
    const c = (name: string, image: string, env = '') => `        - name: ${name}\n          image: ${image}\n${env}`;
    const out = mergePackage({
      original: { 'd.yaml': deploy(c('app', 'app:1')) },
      updated: { 'd.yaml': deploy(c('app', 'app:1') + c('sidecar', 'proxy:1')) },
      local: { 'd.yaml': deploy(c('app', 'app:1', '          env:\n            - name: MODE\n              value: prod\n')) },
    });
    expect(out['d.yaml']).toBe(deploy(c('app', 'app:1', '          env:\n            - name: MODE\n              value: prod\n') + c('sidecar', 'proxy:1')));
  });

  it('merges an env list by name when both sides change different entries', () => {
    const env = (a: string, b: string) => `        - name: app\n          env:\n            - name: A\n              value: "${a}"\n            - name: B\n              value: "${b}"\n`;
    const out = mergePackage({ original: { 'd.yaml': deploy(env('1', '1')) }, updated: { 'd.yaml': deploy(env('2', '1')) }, local: { 'd.yaml': deploy(env('1', '9')) } });
    expect(out['d.yaml']).toBe(deploy(env('2', '9')));
  });

  it('replaces a plain list upstream changed', () => {
    const args = (xs: string[]) => `        - name: app\n          args:\n${xs.map((x) => `            - ${x}\n`).join('')}`;
    const out = mergePackage({ original: { 'd.yaml': deploy(args(['a'])) }, updated: { 'd.yaml': deploy(args(['a', 'b'])) }, local: { 'd.yaml': deploy(args(['a', 'local'])) } });
    expect(out['d.yaml']).toBe(deploy(args(['a', 'b'])));
  });

  it('keeps comments and field order of the local file', () => {
    const local = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a # the name\n  # labels are ours\n  labels:\n    team: blue\ndata:\n  z: "1" # last first\n  a: "1"\n';
    const out = mergePackage({ original: { 'cm.yaml': cm('a', { a: '1', z: '1' }) }, updated: { 'cm.yaml': cm('a', { a: '2', z: '1' }) }, local: { 'cm.yaml': local } });
    expect(out['cm.yaml']).toBe(local.replace('a: "1"\n', 'a: "2"\n'));
  });

  it('leaves a file untouched, byte for byte, when upstream did not change its resources', () => {
    const local = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: "1"}   # odd style\n';
    const out = mergePackage({ original: { 'cm.yaml': cm('a', { x: '1' }), 'b.yaml': cm('b', { y: '1' }) }, updated: { 'cm.yaml': cm('a', { x: '1' }), 'b.yaml': cm('b', { y: '2' }) }, local: { 'cm.yaml': local, 'b.yaml': cm('b', { y: '1' }) } });
    expect(out['cm.yaml']).toBe(local);
  });

  it('merges plain files: upstream change only where the local copy is unchanged', () => {
    const out = mergePackage({
      original: { 'README.md': 'v1\n', 'NOTES.md': 'v1\n', 'old.txt': 'x\n' },
      updated: { 'README.md': 'v2\n', 'NOTES.md': 'v2\n', 'new.txt': 'n\n' },
      local: { 'README.md': 'v1\n', 'NOTES.md': 'mine\n', 'old.txt': 'x\n' },
    });
    expect(out).toEqual({ 'README.md': 'v2\n', 'NOTES.md': 'mine\n', 'new.txt': 'n\n' });
  });

  it('merges the Kptfile, keeping the local package name and local additions', () => {
    const kpt = (name: string, desc: string, extra = '') => `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: ${name}\ninfo:\n  description: ${desc}\n${extra}`;
    const pipeline = 'pipeline:\n  mutators:\n    - image: set-labels:v0.1\n';
    const out = mergePackage({ original: { Kptfile: kpt('bp', 'one') }, updated: { Kptfile: kpt('bp', 'two') }, local: { Kptfile: kpt('down', 'one', pipeline) } });
    expect(out.Kptfile).toBe(kpt('down', 'two', pipeline));
  });
});

describe('the other strategies', () => {
  const input = { original: { 'cm.yaml': cm('a', { x: '1' }), 'old.yaml': cm('old', { o: '1' }) }, updated: { 'cm.yaml': cm('a', { x: '2' }), 'new.yaml': cm('new', { n: '1' }) }, local: { 'cm.yaml': cm('a', { x: '1' }), 'old.yaml': cm('old', { o: '1' }), 'mine.yaml': cm('mine', { m: '1' }) } };

  it('fast-forward refuses a locally changed package and takes the update of an unchanged one', () => {
    expect(() => fastForwardPackage(input)).toThrow(MergeError);
    expect(() => fastForwardPackage(input)).toThrow(/mine\.yaml/);
    expect(fastForwardPackage({ ...input, local: input.original })).toEqual(input.updated);
  });

  it('force-delete-replace takes the update whatever the local package holds', () => {
    expect(forceDeleteReplace(input)).toEqual(input.updated);
  });

  it('copy-merge copies upstream files over local ones and keeps local-only files', () => {
    expect(copyMerge(input)).toEqual({ 'cm.yaml': cm('a', { x: '2' }), 'old.yaml': cm('old', { o: '1' }), 'mine.yaml': cm('mine', { m: '1' }), 'new.yaml': cm('new', { n: '1' }) });
  });
});
