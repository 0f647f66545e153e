import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { upgradePackage, type PackageFiles, type UpgradeStrategy } from '../../../lib/merge/package.ts';
import { createBareRepo, FastImport } from '../../support/git-fixtures.ts';

// The reference: `kpt pkg get` a blueprint revision, change it locally, `kpt pkg update` to the next
// revision (resource-merge, or another strategy), and compare kpt's package with what upgradePackage
// makes of the same three packages. kpt's own bookkeeping (the upstream-identifier annotation, the
// Kptfile's upstream fields) is left out of the comparison.

const KPT = '/usr/lib/google-cloud-sdk/bin/kpt';
const root = mkdtempSync(join(tmpdir(), 'porch-kpt-ref-'));
// kpt leaves its fetch directories in TMPDIR: kept under root so they go with it.
mkdirSync(join(root, 'tmp'));
const ENV = { ...process.env, TMPDIR: join(root, 'tmp'), GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

// Without blocking the test worker's event loop: on a busy machine kpt and git take seconds.
const execFileAsync = promisify(execFile);
const run = async (cwd: string, cmd: string, ...args: string[]) => (await execFileAsync(cmd, args, { cwd, env: ENV, encoding: 'utf8' })).stdout;

function writeTree(dir: string, files: PackageFiles): void {
  rmSync(dir, { recursive: true, force: true });
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
}

function readTree(dir: string, prefix = ''): PackageFiles {
  const out: PackageFiles = {};
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const p = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, readTree(dir, p));
    else out[p] = readFileSync(join(dir, p), 'utf8');
  }
  return out;
}

/**
 * A package as kpt would be judged: YAML files as their documents' values (key order included),
 * without kpt's upstream-identifier annotation; the Kptfile without upstream and upstreamLock
 * (the engine writes those); other files as text.
 */
function normalise(files: PackageFiles): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [p, text] of Object.entries(files)) {
    if (p !== 'Kptfile' && !/\.ya?ml$/.test(p)) {
      out[p] = text;
      continue;
    }
    out[p] = YAML.parseAllDocuments(text).map((d) => {
      const v = d.toJS() as { metadata?: { annotations?: Record<string, string> }; upstream?: unknown; upstreamLock?: unknown };
      const ann = v.metadata?.annotations;
      if (ann) {
        delete ann['internal.kpt.dev/upstream-identifier'];
        if (!Object.keys(ann).length) delete v.metadata!.annotations;
      }
      if (p === 'Kptfile') {
        // kpt rewrites the Kptfile in its Go struct's field order: compared with keys sorted.
        delete v.upstream;
        delete v.upstreamLock;
        return JSON.stringify(sortKeys(v));
      }
      return JSON.stringify(v);
    });
  }
  return out;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

/** A local edit of one YAML file, through yaml's document API so kpt's comments stay. */
function edit(text: string, change: (doc: YAML.Document) => void, keepMergeComment = true): string {
  const doc = YAML.parseDocument(text);
  change(doc);
  // yaml moves the comment kpt writes after `metadata:` to the next line, where kpt no longer reads it.
  const out = doc.toString();
  return keepMergeComment ? out.replace(/^metadata:\n +# (kpt-merge: \S*)\n/m, 'metadata: # $1\n') : out;
}

/** kpt's answer and ours for one blueprint change (v1 → v2) and one local change. */
async function compare(v1: PackageFiles, v2: PackageFiles, localChange: (files: PackageFiles) => PackageFiles, strategy: UpgradeStrategy = 'resource-merge') {
  const dir = join(root, `case${++n}`);
  // The blueprint repository: bp/ at v1, then at v2, tagged bp/v1 and bp/v2 (one fast-import run).
  const up = createBareRepo(join(dir, 'up.git'));
  const history = new FastImport({ name: 't', email: 't@example.com' });
  const inBp = (files: PackageFiles) => Object.fromEntries(Object.entries(files).map(([p, text]) => [`bp/${p}`, text]));
  const c1 = history.commit('refs/heads/main', 'v1', { files: inBp(v1) });
  history.reset('refs/tags/bp/v1', c1);
  history.reset('refs/tags/bp/v2', history.commit('refs/heads/main', 'v2', { from: c1, files: inBp(v2), replace: true }));
  history.run(up);

  const down = join(dir, 'down');
  mkdirSync(down);
  await run(down, 'git', 'init', '-q', '-b', 'main');
  await run(down, KPT, 'pkg', 'get', `file://${dir}/up.git/bp@bp/v1`, 'pkg');
  const fetched = readTree(join(down, 'pkg'));
  const local = localChange(fetched);
  writeTree(join(down, 'pkg'), local);
  await run(down, 'git', 'add', '-A');
  await run(down, 'git', 'commit', '-qm', 'local');
  let kptError = '';
  try {
    await run(down, KPT, 'pkg', 'update', 'pkg@bp/v2', '--strategy', strategy);
  } catch (err) {
    kptError = String((err as { stderr?: string }).stderr ?? err);
  }
  const kpt = normalise(readTree(join(down, 'pkg')));
  let ours: Record<string, unknown> = normalise(local);
  let oursError = '';
  try {
    ours = normalise(upgradePackage(strategy, { original: v1, updated: v2, local }));
  } catch (err) {
    oursError = String(err);
  }
  return { kpt, ours, kptError, oursError };
}

const cm = (data: Record<string, string>, labels?: Record<string, string>) =>
  YAML.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'ns', ...(labels ? { labels } : {}) }, data });
const kptfile = 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: bp\ninfo:\n  description: blueprint\n';
const deploy = (containers: unknown[]) => YAML.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 1, template: { spec: { containers } } } });

describe.skipIf(!existsSync(KPT))('upgrades against kpt pkg update', () => {
  it('a field changed on both sides: upstream wins in kpt and here; a local-only field is kept', async () => {
    const { kpt, ours } = await compare(
      { Kptfile: kptfile, 'cm.yaml': cm({ a: '1', b: '1' }) },
      { Kptfile: kptfile, 'cm.yaml': cm({ a: '2', b: '1', c: '1' }) },
      (f) => ({ ...f, 'cm.yaml': cm({ a: '100', b: '9' }, { mine: 'yes' }) }),
    );
    expect(ours).toEqual(kpt);
    expect(JSON.parse((kpt['cm.yaml'] as string[])[0]).data).toEqual({ a: '2', b: '9', c: '1' });
  });

  it('a resource added and one deleted upstream, one added locally', async () => {
    const { kpt, ours } = await compare(
      { Kptfile: kptfile, 'cm.yaml': cm({ a: '1' }), 'old.yaml': YAML.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'old' }, spec: { ports: [{ port: 80 }] } }) },
      { Kptfile: kptfile, 'cm.yaml': cm({ a: '1' }), 'deploy.yaml': deploy([{ name: 'app', image: 'app:1' }]) },
      (f) => ({ ...f, 'mine.yaml': YAML.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mine' }, stringData: { k: 'v' } }) }),
    );
    expect(ours).toEqual(kpt);
    expect(Object.keys(kpt).sort()).toEqual(['Kptfile', 'cm.yaml', 'deploy.yaml', 'mine.yaml']);
  });

  it('containers merged by name: upstream adds a sidecar and bumps an image, local adds env', async () => {
    const { kpt, ours } = await compare(
      { Kptfile: kptfile, 'deploy.yaml': deploy([{ name: 'app', image: 'app:1' }]) },
      { Kptfile: kptfile, 'deploy.yaml': deploy([{ name: 'app', image: 'app:2' }, { name: 'proxy', image: 'proxy:1' }]) },
      (f) => ({ ...f, 'deploy.yaml': deploy([{ name: 'app', image: 'app:1', env: [{ name: 'MODE', value: 'prod' }] }]) }),
    );
    expect(ours).toEqual(kpt);
  });
  it('lists by schema: ports by containerPort+protocol, env by name, an env var deleted locally and changed upstream, args whole', async () => {
    const c = (image: string, ports: unknown[], env: unknown[], args: string[]) => ({ name: 'app', image, args, ports, env });
    const { kpt, ours } = await compare(
      { Kptfile: kptfile, 'deploy.yaml': deploy([c('app:1', [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 443 }], [{ name: 'A', value: '1' }, { name: 'B', value: '1', extra: 'x' }], ['a'])]) },
      { Kptfile: kptfile, 'deploy.yaml': deploy([c('app:2', [{ containerPort: 80, protocol: 'UDP' }, { containerPort: 443 }], [{ name: 'A', value: '2' }, { name: 'B', value: '2', extra: 'x' }, { name: 'C', value: '1' }], ['a', 'up'])]) },
      (f) => ({
        ...f,
        'deploy.yaml': edit(f['deploy.yaml'], (doc) => {
          doc.setIn(['spec', 'replicas'], 3);
          doc.setIn(['spec', 'template', 'spec', 'containers', 0, 'args'], ['a', 'local']);
          doc.setIn(['spec', 'template', 'spec', 'containers', 0, 'env'], [{ name: 'A', value: '1' }, { name: 'MINE', value: '1' }]);
          doc.addIn(['spec', 'template', 'spec', 'containers', 0, 'ports'], { containerPort: 8080 });
        }),
      }),
    );
    expect(ours).toEqual(kpt);
  });

  it('deletions: a resource upstream deleted but changed locally stays; maps deleted on one side; an explicit null upstream', async () => {
    const thing = (spec: Record<string, unknown>) => YAML.stringify({ apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 't' }, spec });
    const { kpt, ours } = await compare(
      { Kptfile: kptfile, 't.yaml': thing({ m: { a: '1', b: '1' }, n: { a: '1' }, p: { a: '1' }, q: 'x', items: [{ name: 'a', v: '1' }] }), 'gone.yaml': cm({ x: '1' }) },
      { Kptfile: kptfile, 't.yaml': thing({ m: { a: '2', b: '1' }, n: { a: '1' }, q: null, items: [{ name: 'a', v: '2' }] }) },
      (f) => ({
        ...f,
        'gone.yaml': edit(f['gone.yaml'], (doc) => doc.setIn(['data', 'x'], 'local')),
        't.yaml': edit(f['t.yaml'], (doc) => {
          doc.deleteIn(['spec', 'm']);
          doc.deleteIn(['spec', 'n']);
          doc.setIn(['spec', 'p', 'mine'], '1');
          doc.setIn(['spec', 'q'], 'local');
          doc.setIn(['spec', 'items'], [{ name: 'a', v: '1' }, { name: 'b', v: 'local' }]);
        }),
      }),
    );
    expect(ours).toEqual(kpt);
    expect(Object.keys(kpt)).toContain('gone.yaml');
  });

  it('the Kptfile, plain YAML and files that are not YAML', async () => {
    const kf = (desc: string, mutators: unknown[]) => YAML.stringify({ apiVersion: 'kpt.dev/v1', kind: 'Kptfile', metadata: { name: 'bp' }, info: { description: desc }, pipeline: { mutators } });
    const { kpt, ours } = await compare(
      {
        Kptfile: kf('one', [{ image: 'gcr.io/kpt-fn/set-labels:v0.1', configMap: { app: 'one' } }]),
        'values.yaml': 'a: 1\nb: 1\n',
        'README.md': 'v1\n',
        'NOTES.md': 'v1\n',
        'gone.txt': 'g\n',
        'deleted-here.txt': 'd\n',
      },
      {
        Kptfile: kf('two', [{ image: 'gcr.io/kpt-fn/set-labels:v0.2', configMap: { app: 'one' } }, { image: 'gcr.io/kpt-fn/set-namespace:v0.4' }]),
        'values.yaml': 'a: 2\nb: 1\n',
        'README.md': 'v2\n',
        'NOTES.md': 'v2\n',
        'deleted-here.txt': 'd\n',
        'new.txt': 'n\n',
      },
      (f) => {
        const { 'deleted-here.txt': _gone, ...rest } = f;
        return {
          ...rest,
          Kptfile: edit(f.Kptfile, (doc) => {
            doc.setIn(['info', 'site'], 'local');
            doc.setIn(['pipeline', 'mutators', 0, 'configMap', 'team'], 'blue');
            doc.setIn(['pipeline', 'validators'], [{ image: 'gcr.io/kpt-fn/kubeval:v0.3' }]);
          }),
          'values.yaml': 'a: 1\nb: local\n',
          'NOTES.md': 'mine\n',
          'local.txt': 'l\n',
        };
      },
    );
    expect(ours).toEqual(kpt);
  });

  it('a resource renamed locally still merges with its upstream copy through the kpt-merge comment', async () => {
    const { kpt, ours } = await compare(
      { Kptfile: kptfile, 'cm.yaml': cm({ a: '1', b: '1' }) },
      { Kptfile: kptfile, 'cm.yaml': cm({ a: '2', b: '1' }) },
      (f) => ({ ...f, 'cm.yaml': edit(f['cm.yaml'], (doc) => { doc.setIn(['metadata', 'name'], 'renamed'); doc.setIn(['data', 'b'], 'local'); }) }),
    );
    expect(ours).toEqual(kpt);
    expect(JSON.parse((kpt['cm.yaml'] as string[])[0])).toMatchObject({ metadata: { name: 'renamed' }, data: { a: '2', b: 'local' } });
  });

  it('a resource renamed locally whose kpt-merge comment was lost is a different resource to kpt and here', async () => {
    const { kpt, ours } = await compare(
      { Kptfile: kptfile, 'cm.yaml': cm({ a: '1', b: '1' }) },
      { Kptfile: kptfile, 'cm.yaml': cm({ a: '2', b: '1' }) },
      (f) => ({ ...f, 'cm.yaml': edit(f['cm.yaml'], (doc) => doc.setIn(['metadata', 'name'], 'renamed'), false) }),
    );
    expect(ours).toEqual(kpt);
    expect(JSON.parse((kpt['cm.yaml'] as string[])[0])).toMatchObject({ metadata: { name: 'renamed' }, data: { a: '1', b: '1' } });
  });
  it('force-delete-replace: upstream’s files replace the local ones, the local Kptfile stays', async () => {
    const { kpt, ours, kptError } = await compare(
      { Kptfile: kptfile, 'cm.yaml': cm({ a: '1' }), 'README.md': 'r1\n' },
      { Kptfile: kptfile.replace('blueprint', 'blueprint v2'), 'cm.yaml': cm({ a: '2' }), 'new.yaml': cm({ n: '1' }).replace('name: cm', 'name: new') },
      (f) => ({ ...f, Kptfile: edit(f.Kptfile, (doc) => doc.setIn(['info', 'site'], 'local')), 'cm.yaml': edit(f['cm.yaml'], (doc) => doc.setIn(['data', 'a'], 'local')), 'mine.txt': 'm\n' }),
      'force-delete-replace',
    );
    expect(kptError).toBe('');
    expect(ours).toEqual(kpt);
    expect(JSON.parse((kpt.Kptfile as string[])[0]).info).toEqual({ description: 'blueprint', site: 'local' });
  });

  it('fast-forward: refused by both for a locally changed package, done by both for an unchanged one', async () => {
    const v1 = { Kptfile: kptfile, 'cm.yaml': cm({ a: '1' }) };
    const v2 = { Kptfile: kptfile, 'cm.yaml': cm({ a: '2' }), 'README.md': 'r\n' };
    const changed = await compare(v1, v2, (f) => ({ ...f, 'cm.yaml': edit(f['cm.yaml'], (doc) => doc.setIn(['data', 'a'], 'local')) }), 'fast-forward');
    expect(changed.kptError).toMatch(/local package files have been modified: \[cm\.yaml\]/);
    expect(changed.oursError).toMatch(/MergeError: local package files have been modified: \[cm\.yaml\]/);
    expect(changed.ours).toEqual(changed.kpt);
    const clean = await compare(v1, v2, (f) => f, 'fast-forward');
    expect([clean.kptError, clean.oursError]).toEqual(['', '']);
    expect(clean.ours).toEqual(clean.kpt);
  });
});
