import { describe, expect, it } from 'vitest';
import { MergeError, mergePackage } from '../../../lib/merge/package.ts';

// resource-merge over whole packages: resources added, deleted and moved, multi-document files,
// plain YAML, files that are not YAML, and YAML that does not parse.

const cm = (name: string, data: string, meta = '') => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${meta}data:\n${data}`;
const ID = (name: string) => `  annotations:\n    internal.kpt.dev/upstream-identifier: '|ConfigMap|default|${name}'\n`;

describe('resource-merge, packages', () => {
  it('adds a resource upstream added in a new file, with upstream’s text as it is', () => {
    const added = '# added upstream\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: 80}]\n';
    const out = mergePackage({ original: { 'a.yaml': cm('a', '  x: "1"\n') }, updated: { 'a.yaml': cm('a', '  x: "1"\n'), 'svc.yaml': added }, local: { 'a.yaml': cm('a', '  x: "1"\n') } });
    expect(out).toEqual({ 'a.yaml': cm('a', '  x: "1"\n'), 'svc.yaml': added });
  });

  it('appends a resource upstream added to a file the local package has', () => {
    const out = mergePackage({
      original: { 'all.yaml': cm('a', '  x: "1"\n') },
      updated: { 'all.yaml': `${cm('a', '  x: "1"\n')}---\n${cm('b', '  y: "1"\n')}` },
      local: { 'all.yaml': cm('a', '  x: "9"\n') },
    });
    expect(out['all.yaml']).toBe(`${cm('a', '  x: "9"\n')}---\n${cm('b', '  y: "1"\n')}`);
  });

  it('deletes a resource upstream deleted that the local package left unchanged (kpt’s annotation is no change), and its emptied file', () => {
    const out = mergePackage({
      original: { 'a.yaml': cm('a', '  x: "1"\n'), 'b.yaml': cm('b', '  y: "1"\n') },
      updated: { 'a.yaml': cm('a', '  x: "1"\n') },
      local: { 'a.yaml': cm('a', '  x: "1"\n'), 'b.yaml': cm('b', '  y: "1"\n', ID('b')) },
    });
    expect(out).toEqual({ 'a.yaml': cm('a', '  x: "1"\n') });
  });

  it('kpt rule: keeps a resource upstream deleted when the local package changed it', () => {
    const out = mergePackage({ original: { 'b.yaml': cm('b', '  y: "1"\n') }, updated: {}, local: { 'b.yaml': cm('b', '  y: "local"\n') } });
    expect(out).toEqual({ 'b.yaml': cm('b', '  y: "local"\n') });
  });

  it('keeps a resource added locally; one deleted locally stays deleted even though upstream changed it', () => {
    const out = mergePackage({
      original: { 'a.yaml': cm('a', '  x: "1"\n'), 'b.yaml': cm('b', '  y: "1"\n') },
      updated: { 'a.yaml': cm('a', '  x: "2"\n'), 'b.yaml': cm('b', '  y: "2"\n') },
      local: { 'a.yaml': cm('a', '  x: "1"\n'), 'mine.yaml': cm('mine', '  m: "1"\n') },
    });
    expect(out).toEqual({ 'a.yaml': cm('a', '  x: "2"\n'), 'mine.yaml': cm('mine', '  m: "1"\n') });
  });

  it('kpt rule: resources are matched per file — one the local package moved to another file is not merged, nor added back', () => {
    const out = mergePackage({ original: { 'a.yaml': cm('a', '  x: "1"\n') }, updated: { 'a.yaml': cm('a', '  x: "2"\n') }, local: { 'moved.yaml': cm('a', '  x: "1"\n') } });
    expect(out).toEqual({ 'moved.yaml': cm('a', '  x: "1"\n') });
  });

  it('kpt rule: a resource the local package renamed meets its upstream copy through the “kpt-merge” comment on its metadata line', () => {
    const local = 'apiVersion: v1\nkind: ConfigMap\nmetadata: # kpt-merge: /a\n  name: renamed\n  namespace: prod\ndata:\n  x: "1"\n  y: "local"\n';
    const out = mergePackage({ original: { 'a.yaml': cm('a', '  x: "1"\n  y: "1"\n') }, updated: { 'a.yaml': cm('a', '  x: "2"\n  y: "1"\n') }, local: { 'a.yaml': local } });
    expect(out['a.yaml']).toBe(local.replace('x: "1"', 'x: "2"'));
  });

  it('kpt rule: without that comment a renamed resource is a new one (kpt does not match on its upstream-identifier annotation)', () => {
    const local = cm('renamed', '  x: "1"\n', ID('a'));
    const out = mergePackage({ original: { 'a.yaml': cm('a', '  x: "1"\n') }, updated: { 'a.yaml': cm('a', '  x: "2"\n') }, local: { 'a.yaml': local } });
    expect(out['a.yaml']).toBe(local);
  });

  it('merges a multi-document file document by document, keeping separators and comments', () => {
    const two = (a: string, b: string) => `# first\n${cm('a', `  x: "${a}"\n`)}---\n# second\n${cm('b', `  y: "${b}"\n`)}`;
    const out = mergePackage({ original: { 'all.yaml': two('1', '1') }, updated: { 'all.yaml': two('2', '1') }, local: { 'all.yaml': two('1', '9') } });
    expect(out['all.yaml']).toBe(two('2', '9'));
  });

  it('kpt rule: YAML that is not a resource is merged field by field like one', () => {
    const out = mergePackage({ original: { 'values.yaml': 'a: 1\nb: 1\n' }, updated: { 'values.yaml': 'a: 2\nb: 1\n' }, local: { 'values.yaml': 'a: 1\nb: local\n' } });
    expect(out['values.yaml']).toBe('a: 2\nb: local\n');
  });

  it('keeps sequences written flush with their key when it rewrites a file', () => {
    const d = (image: string) => `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: ${image}\n`;
    expect(mergePackage({ original: { 'd.yaml': d('app:1') }, updated: { 'd.yaml': d('app:2') }, local: { 'd.yaml': d('app:1') } })['d.yaml']).toBe(d('app:2'));
  });

  it('merges files that are not YAML whole, as kpt does', () => {
    const out = mergePackage({
      original: { 'README.md': 'v1\n', 'NOTES.md': 'v1\n', 'old.txt': 'x\n', 'edited-old.txt': 'x\n', 'deleted-here.sh': 'a\n' },
      updated: { 'README.md': 'v2\n', 'NOTES.md': 'v2\n', 'new.txt': 'n\n', 'both.txt': 'upstream\n', 'deleted-here.sh': 'a\n' },
      local: { 'README.md': 'v1\n', 'NOTES.md': 'mine\n', 'old.txt': 'x\n', 'edited-old.txt': 'mine\n', 'both.txt': 'local\n', 'local.txt': 'l\n' },
    });
    expect(out).toEqual({
      'README.md': 'v2\n', // unchanged locally: upstream's
      'NOTES.md': 'mine\n', // changed on both sides: local kept
      'edited-old.txt': 'mine\n', // deleted upstream but changed locally: kept
      'new.txt': 'n\n', // added upstream
      'both.txt': 'local\n', // added on both sides: local kept
      'local.txt': 'l\n', // added locally
      'deleted-here.sh': 'a\n', // kpt rule: deleted locally, present upstream: comes back
    });
  });

  it('fails with a MergeError naming the side and file for YAML that does not parse', () => {
    const run = () => mergePackage({ original: { 'a.yaml': cm('a', '  x: "1"\n') }, updated: { 'a.yaml': 'apiVersion: v1\nkind: [oops\n' }, local: { 'a.yaml': cm('a', '  x: "1"\n') } });
    expect(run).toThrow(MergeError);
    expect(run).toThrow(/^new upstream file a\.yaml is not valid YAML: /);
  });

  it('fails with a MergeError for a resource that appears twice, as kpt does', () => {
    const run = () => mergePackage({ original: {}, updated: {}, local: { 'a.yaml': `${cm('a', '  x: "1"\n')}---\n${cm('a', '  x: "2"\n')}` } });
    expect(run).toThrow(MergeError);
    expect(run).toThrow('found duplicate local resources: ConfigMap a in a.yaml appears twice');
  });
});
