import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { KptfileError } from '../../../lib/engine/kptfile.ts';
import { normalizeLock, withUpstream } from '../../../lib/engine/tasks/kptfile-upstream.ts';
import { asCloned } from '../../../lib/engine/tasks/clone.ts';
import { ensureMergeKeys } from '../../../lib/engine/tasks/merge-key.ts';
import { fastForwardPackage } from '../../../lib/merge/package.ts';
import { withDeploymentContext } from '../../../lib/engine/tasks/package-context.ts';
import { readUpstreamPackage } from '../../../lib/git/upstream.ts';
import { git, tempDir } from '../../support/git-fixtures.ts';

// What a clone writes into the package's files: the Kptfile's upstream and lock, kpt's merge keys
// on every resource, and the package context of a deployment repository. Where kpt itself can be
// run (the real binary), the output is compared with what `kpt pkg get` writes.

const KPT = '/usr/lib/google-cloud-sdk/bin/kpt';
const lock = { repo: 'https://git.example.com/blueprints.git', directory: 'basens', ref: 'basens/v2', commit: 'a'.repeat(40) };

describe('the Kptfile of a package made from an upstream', () => {
  it('names the package and puts upstream and upstreamLock after metadata, keeping comments and the rest', () => {
    const before = 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: basens # blueprint name\n  annotations:\n    config.kubernetes.io/local-config: "true"\n# what it is\ninfo:\n  description: base namespace\n';
    expect(withUpstream(before, { packageName: 'team-ns' }, lock)).toBe(
      'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: team-ns # blueprint name\n  annotations:\n    config.kubernetes.io/local-config: "true"\n' +
        'upstream:\n  type: git\n  git:\n    repo: https://git.example.com/blueprints.git\n    directory: basens\n    ref: basens/v2\n' +
        `upstreamLock:\n  type: git\n  git:\n    repo: https://git.example.com/blueprints.git\n    directory: basens\n    ref: basens/v2\n    commit: ${'a'.repeat(40)}\n` +
        '# what it is\ninfo:\n  description: base namespace\n',
    );
  });

  it('replaces an earlier upstream rather than adding a second one', () => {
    const once = withUpstream('apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: a\n', { packageName: 'a' }, { ...lock, ref: 'basens/v1' });
    const twice = withUpstream(once, {}, lock);
    expect(twice.match(/^upstream:/gm)).toHaveLength(1);
    expect(twice.match(/^upstreamLock:/gm)).toHaveLength(1);
    expect(twice).toContain('ref: basens/v2');
    expect(twice).not.toContain('basens/v1');
  });

  it('writes upstream as Porch does, without updateStrategy, replacing one the package had; an upgrade keeps the name', () => {
    const local = withUpstream('apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: mine\n', {}, lock).replace('    ref: basens/v2\nupstreamLock', '    ref: basens/v2\n  updateStrategy: fast-forward\nupstreamLock');
    expect(YAML.parse(local).upstream.updateStrategy).toBe('fast-forward');
    const upgraded = YAML.parse(withUpstream(local, {}, { ...lock, ref: 'basens/v3' }));
    expect(upgraded.metadata.name).toBe('mine');
    expect(upgraded.upstream).toEqual({ type: 'git', git: { repo: lock.repo, directory: lock.directory, ref: 'basens/v3' } });
    expect(upgraded.upstreamLock.git.ref).toBe('basens/v3');
    expect(YAML.parse(withUpstream(local, { packageName: 'other' }, lock)).upstream).toEqual({ type: 'git', git: { repo: lock.repo, directory: lock.directory, ref: lock.ref } });
  });

  it('keeps one merge key on the metadata line however often the lock is rewritten', () => {
    let text = ensureMergeKeys({ Kptfile: withUpstream('apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: a\n', { packageName: 'a' }, lock) }).Kptfile;
    for (let i = 0; i < 3; i++) text = ensureMergeKeys({ Kptfile: withUpstream(text, {}, { ...lock, ref: `basens/v${i + 3}` }) }).Kptfile;
    expect(text.match(/kpt-merge/g)).toHaveLength(1);
    expect(text).toMatch(/^metadata: # kpt-merge: \/a\n/m);
  });

  it('refuses a Kptfile it cannot edit with a KptfileError, not a crash', () => {
    expect(() => withUpstream('apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata: [unclosed\n', {}, lock)).toThrow(KptfileError);
    expect(() => withUpstream('- a list\n', {}, lock)).toThrow('the Kptfile is not a YAML mapping');
    expect(() => withUpstream('apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata: text\n', { packageName: 'x' }, lock)).toThrow("the Kptfile's metadata is not a YAML mapping");
  });

  it('normalises the location as kpt does: a network URL ends in .git, the directory has no leading slash; a local path is kept', () => {
    expect(normalizeLock({ ...lock, repo: 'https://git.example.com/blueprints', directory: '/basens' })).toEqual(lock);
    expect(normalizeLock(lock)).toEqual(lock);
    expect(normalizeLock({ ...lock, repo: '/srv/git/blueprints' }).repo).toBe('/srv/git/blueprints');
    expect(normalizeLock({ ...lock, repo: 'file:///srv/git/blueprints' }).repo).toBe('file:///srv/git/blueprints');
  });
});

describe('kpt merge keys on the resources of a cloned package', () => {
  const mergeKeysOf = (text: string) => ensureMergeKeys({ 'f.yaml': text })['f.yaml'];

  it('adds the kpt-merge comment and the upstream-identifier annotation, and is idempotent', () => {
    const files = {
      'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: prod\ndata:\n  a: "1"\n',
      Kptfile: 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: pkg\n',
      'README.md': 'metadata:\n  name: not yaml to kpt\n',
    };
    const out = ensureMergeKeys(files);
    expect(out['cm.yaml']).toBe("apiVersion: v1\nkind: ConfigMap\nmetadata: # kpt-merge: prod/cm\n  name: cm\n  namespace: prod\n  annotations:\n    internal.kpt.dev/upstream-identifier: '|ConfigMap|prod|cm'\ndata:\n  a: \"1\"\n");
    // Porch runs the same filter over the Kptfile.
    expect(out.Kptfile).toBe("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata: # kpt-merge: /pkg\n  name: pkg\n  annotations:\n    internal.kpt.dev/upstream-identifier: 'kpt.dev|Kptfile|default|pkg'\n");
    expect(out['README.md']).toBe(files['README.md']);
    expect(ensureMergeKeys(out)).toEqual(out);
  });

  // One resource in, one out: where the kpt-merge comment ends up.
  it.each<[where: string, input: string, output: string]>([
    [
      'on the metadata line, once, where a rewrite left several',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: # kpt-merge: /a\n  # kpt-merge: /a\n  # kpt-merge: /a\n  # keep me\n  name: a\n',
      "apiVersion: v1\nkind: ConfigMap\nmetadata: # kpt-merge: /a\n  # keep me\n  name: a\n  annotations:\n    internal.kpt.dev/upstream-identifier: '|ConfigMap|default|a'\n",
    ],
    [
      'on the metadata line, where a rewrite left it below',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  # kpt-merge: base/a\n  name: b\n',
      "apiVersion: v1\nkind: ConfigMap\nmetadata: # kpt-merge: base/a\n  name: b\n  annotations:\n    internal.kpt.dev/upstream-identifier: '|ConfigMap|base|a'\n",
    ],
    [
      'in place of another comment on the metadata line, as kpt does, keeping comments below it',
      'apiVersion: v1\nkind: Secret\nmetadata: # owner: team-a\n  # the name is fixed\n  name: s\n',
      "apiVersion: v1\nkind: Secret\nmetadata: # kpt-merge: /s\n  # the name is fixed\n  name: s\n  annotations:\n    internal.kpt.dev/upstream-identifier: '|Secret|default|s'\n",
    ],
  ])('puts the kpt-merge comment %s', (_where, input, output) => {
    expect(mergeKeysOf(input)).toBe(output);
  });

  it('keeps an existing kpt-merge comment: a resource renamed downstream keeps its upstream identity', () => {
    const out = mergeKeysOf('apiVersion: apps/v1\nkind: Deployment\nmetadata: # kpt-merge: base/web\n  name: web-prod\n  namespace: prod\n');
    expect(out).toContain('metadata: # kpt-merge: base/web\n');
    expect(YAML.parse(out).metadata.annotations).toEqual({ 'internal.kpt.dev/upstream-identifier': 'apps|Deployment|base|web' });
  });

  it('records kyaml’s "~X" namespace as "~C", and leaves alone what has no identity or is not YAML', () => {
    const out = ensureMergeKeys({
      'a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: ~X\n',
      'b.yaml': 'apiVersion: v1\nkind: List\nitems: []\n',
      'c.yaml': 'key: [unclosed\n',
      'd.yml': '- just\n- a list\n',
    });
    expect(YAML.parse(out['a.yaml']).metadata.annotations['internal.kpt.dev/upstream-identifier']).toBe('|ConfigMap|~C|a');
    expect(out['b.yaml']).toBe('apiVersion: v1\nkind: List\nitems: []\n');
    expect(out['c.yaml']).toBe('key: [unclosed\n');
    expect(out['d.yml']).toBe('- just\n- a list\n');
  });

  it('keeps each resource’s own sequence indentation', () => {
    const out = mergeKeysOf('apiVersion: v1\nkind: A\nmetadata:\n  name: a\nlist:\n- x\n---\napiVersion: v1\nkind: B\nmetadata:\n  name: b\nlist:\n  - y\n');
    expect(out).toContain('list:\n- x\n');
    expect(out).toContain('list:\n  - y\n');
  });
});

describe('fast-forward of a package nobody touched since it was cloned', () => {
  const kptfile = 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: basens\n  annotations:\n    config.kubernetes.io/local-config: "true"\ninfo:\n  description: basens\n';
  const context = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kptfile.kpt.dev\n  annotations:\n    config.kubernetes.io/local-config: "true"\ndata:\n  name: example\n';
  const cm = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: "${v}"\n`;
  const v1 = { Kptfile: kptfile, 'package-context.yaml': context, 'cm.yaml': cm('1') };
  const v2 = { ...v1, 'cm.yaml': cm('2') };

  for (const deployment of [false, true])
    it(`is done: the clone's renamed Kptfile, merge keys${deployment ? ' and regenerated package context' : ''} are no local change`, () => {
      const local = asCloned(v1, 'app', deployment, lock);
      // Without the clone's view only the merge keys are forgiven; the regenerated context is not.
      if (deployment) expect(() => fastForwardPackage({ original: v1, updated: v2, local })).toThrow('local package files have been modified: [package-context.yaml]');
      else expect(fastForwardPackage({ original: v1, updated: v2, local })['cm.yaml']).toBe(cm('2'));
      const out = fastForwardPackage({ original: v1, updated: v2, local, cloned: asCloned(v1, 'app', deployment, lock) });
      expect(out['cm.yaml']).toBe(cm('2'));
      expect(out.Kptfile).toBe(local.Kptfile);
    });

  it('is still refused once the package was edited, naming what changed', () => {
    const local = asCloned(v1, 'app', true, lock);
    const edited = { ...local, 'cm.yaml': local['cm.yaml'].replace('"1"', '"9"'), Kptfile: local.Kptfile.replace('description: basens', 'description: ours') };
    expect(() => fastForwardPackage({ original: v1, updated: v2, local: edited, cloned: asCloned(v1, 'app', true, lock) })).toThrow('local package files have been modified: [Kptfile cm.yaml]');
  });
});

describe('the package context of a deployment repository', () => {
  it('drops the upstream’s context ConfigMaps and writes one naming the package and its path', () => {
    const files = {
      Kptfile: 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: edge\n',
      'package-context.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kptfile.kpt.dev\ndata:\n  name: example\n',
      'more.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kptfile.kpt.dev\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\n',
      'only-context.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kptfile.kpt.dev\n',
    };
    const out = withDeploymentContext(files, 'sites/edge');
    expect(out['package-context.yaml']).toBe(
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kptfile.kpt.dev\n  annotations:\n    config.kubernetes.io/local-config: "true"\ndata:\n  name: edge\n  package-path: sites/edge\n',
    );
    expect(YAML.parseAllDocuments(out['more.yaml']).map((d) => d.toJS().metadata.name)).toEqual(['keep']);
    expect(out['only-context.yaml']).toBeUndefined();
    expect(out.Kptfile).toBe(files.Kptfile);
  });
});

describe.skipIf(!existsSync(KPT))('compared with the real kpt pkg get', () => {
  const tmp = tempDir('porch-kpt-');
  const bare = join(tmp.path, 'blueprints.git');
  const upstreamFiles: Record<string, string> = {
    Kptfile: 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: basens\n  annotations:\n    config.kubernetes.io/local-config: "true"\ninfo:\n  description: basens description\n',
    'cm.yaml':
      '# the settings\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  revision: "one" # set by hand\n  list:\n  - a\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: prod\n  labels:\n    app: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: nginx\n',
    'package-context.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kptfile.kpt.dev\n  annotations:\n    config.kubernetes.io/local-config: "true"\ndata:\n  name: example\n',
    'ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: # kpt-merge: /base\n  name: team\n',
  };
  let kptOut: string;

  beforeAll(() => {
    const work = join(tmp.path, 'work');
    git(tmp.path, ['init', '-q', '-b', 'main', work]);
    mkdirSync(join(work, 'basens'));
    for (const [f, text] of Object.entries(upstreamFiles)) writeFileSync(join(work, 'basens', f), text);
    git(work, ['add', '.']);
    git(work, ['commit', '-qm', 'blueprint']);
    git(work, ['tag', 'basens/v1']);
    git(tmp.path, ['clone', '-q', '--bare', work, bare]);
    kptOut = join(tmp.path, 'mypkg');
    execFileSync(KPT, ['pkg', 'get', `file://${bare}/basens@v1`, kptOut], { stdio: 'pipe' });
  });
  afterAll(() => tmp.remove());

  it('writes every resource file byte for byte as kpt does', () => {
    const ours = ensureMergeKeys(upstreamFiles);
    for (const f of ['cm.yaml', 'package-context.yaml', 'ns.yaml']) expect(ours[f], f).toBe(readFileSync(join(kptOut, f), 'utf8'));
  });

  it('resolves `v1` in directory basens to the tag basens/v1 and records that ref and its commit, as kpt does', async () => {
    const pkg = await readUpstreamPackage({ url: bare, ref: 'v1', directory: 'basens' }, join(tmp.path, 'scratch'));
    const kptLock = YAML.parse(readFileSync(join(kptOut, 'Kptfile'), 'utf8')).upstreamLock.git;
    expect(pkg.ref).toBe(kptLock.ref);
    expect(pkg.commit).toBe(kptLock.commit);
    expect(pkg.commit).toBe(git(bare, ['rev-parse', 'basens/v1^{commit}']));
    // This kpt writes the directory with a leading slash and the URL without .git; Porch's kpt library normalises both away.
    expect(normalizeLock(kptLock)).toEqual({ repo: `file://${bare.replace(/\.git$/, '')}`, directory: 'basens', ref: 'basens/v1', commit: pkg.commit });
    expect(Object.keys(pkg.files).sort()).toEqual(Object.keys(upstreamFiles).sort());
  });

  it('places upstream and upstreamLock where kpt does, with the same fields in the same order', () => {
    const kpt = YAML.parse(readFileSync(join(kptOut, 'Kptfile'), 'utf8'));
    const ours = YAML.parse(withUpstream(upstreamFiles.Kptfile, { packageName: 'mypkg' }, { repo: kpt.upstreamLock.git.repo, directory: kpt.upstreamLock.git.directory, ref: 'basens/v1', commit: kpt.upstreamLock.git.commit }));
    expect(Object.keys(ours)).toEqual(Object.keys(kpt));
    expect(ours.metadata).toEqual(kpt.metadata);
    // kpt pkg get writes updateStrategy: resource-merge; Porch writes none (and kpt reads none as resource-merge).
    expect(kpt.upstream.updateStrategy).toBe('resource-merge');
    expect(Object.keys(ours.upstream)).toEqual(Object.keys(kpt.upstream).filter((k) => k !== 'updateStrategy'));
    expect(Object.keys(ours.upstream.git)).toEqual(Object.keys(kpt.upstream.git));
    expect(Object.keys(ours.upstreamLock.git)).toEqual(Object.keys(kpt.upstreamLock.git));
  });
});
