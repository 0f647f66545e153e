import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { mergePackage, type PackageFiles } from '../../../lib/merge/package.ts';

// The reference: `kpt pkg get` a blueprint revision, change it locally, `kpt pkg update` to the next
// revision with resource-merge, and compare kpt's resources with what mergePackage makes of the same
// three packages. kpt's own bookkeeping (the upstream-identifier annotation, the Kptfile's upstream
// fields) is left out of the comparison.

const KPT = '/usr/lib/google-cloud-sdk/bin/kpt';
const ENV = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };
const root = mkdtempSync(join(tmpdir(), 'porch-kpt-ref-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

const run = (cwd: string, cmd: string, ...args: string[]) => execFileSync(cmd, args, { cwd, env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

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

/** Resources of a package as plain values by file, without kpt's bookkeeping and the Kptfile. */
function normalise(files: PackageFiles): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [p, text] of Object.entries(files)) {
    if (p === 'Kptfile') continue;
    out[p] = YAML.parseAllDocuments(text).map((d) => {
      const v = d.toJS() as { metadata?: { annotations?: Record<string, string> } };
      const ann = v.metadata?.annotations;
      if (ann) {
        delete ann['internal.kpt.dev/upstream-identifier'];
        if (!Object.keys(ann).length) delete v.metadata!.annotations;
      }
      return v;
    });
  }
  return out;
}

/** kpt's answer and ours for one blueprint change (v1 → v2) and one local change. */
function compare(v1: PackageFiles, v2: PackageFiles, localChange: (files: PackageFiles) => PackageFiles) {
  const dir = join(root, `case${++n}`);
  const work = join(dir, 'work');
  mkdirSync(work, { recursive: true });
  run(dir, 'git', 'init', '-q', '--bare', '-b', 'main', 'up.git');
  run(work, 'git', 'init', '-q', '-b', 'main');
  writeTree(join(work, 'bp'), v1);
  run(work, 'git', 'add', '-A');
  run(work, 'git', 'commit', '-qm', 'v1');
  run(work, 'git', 'tag', 'bp/v1');
  writeTree(join(work, 'bp'), v2);
  run(work, 'git', 'add', '-A');
  run(work, 'git', 'commit', '-qm', 'v2');
  run(work, 'git', 'tag', 'bp/v2');
  run(work, 'git', 'push', '-q', join(dir, 'up.git'), 'main', 'bp/v1', 'bp/v2');

  const down = join(dir, 'down');
  mkdirSync(down);
  run(down, 'git', 'init', '-q', '-b', 'main');
  run(down, KPT, 'pkg', 'get', `file://${dir}/up.git/bp@bp/v1`, 'pkg');
  const fetched = readTree(join(down, 'pkg'));
  const local = localChange(fetched);
  writeTree(join(down, 'pkg'), local);
  run(down, 'git', 'add', '-A');
  run(down, 'git', 'commit', '-qm', 'local');
  run(down, KPT, 'pkg', 'update', 'pkg@bp/v2', '--strategy', 'resource-merge');
  const kpt = normalise(readTree(join(down, 'pkg')));
  const ours = normalise(mergePackage({ original: v1, updated: v2, local }));
  return { kpt, ours };
}

const cm = (data: Record<string, string>, labels?: Record<string, string>) =>
  YAML.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'ns', ...(labels ? { labels } : {}) }, data });
const kptfile = 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: bp\ninfo:\n  description: blueprint\n';
const deploy = (containers: unknown[]) => YAML.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 1, template: { spec: { containers } } } });

describe.skipIf(!existsSync(KPT))('resource-merge against kpt pkg update', () => {
  it('a field changed on both sides: upstream wins in kpt and here; a local-only field is kept', () => {
    const { kpt, ours } = compare(
      { Kptfile: kptfile, 'cm.yaml': cm({ a: '1', b: '1' }) },
      { Kptfile: kptfile, 'cm.yaml': cm({ a: '2', b: '1', c: '1' }) },
      (f) => ({ ...f, 'cm.yaml': cm({ a: '100', b: '9' }, { mine: 'yes' }) }),
    );
    expect(ours).toEqual(kpt);
    expect((kpt['cm.yaml'][0] as { data: Record<string, string> }).data).toEqual({ a: '2', b: '9', c: '1' });
  });

  it('a resource added and one deleted upstream, one added locally', () => {
    const { kpt, ours } = compare(
      { Kptfile: kptfile, 'cm.yaml': cm({ a: '1' }), 'old.yaml': YAML.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'old' }, spec: { ports: [{ port: 80 }] } }) },
      { Kptfile: kptfile, 'cm.yaml': cm({ a: '1' }), 'deploy.yaml': deploy([{ name: 'app', image: 'app:1' }]) },
      (f) => ({ ...f, 'mine.yaml': YAML.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mine' }, stringData: { k: 'v' } }) }),
    );
    expect(ours).toEqual(kpt);
    expect(Object.keys(kpt).sort()).toEqual(['cm.yaml', 'deploy.yaml', 'mine.yaml']);
  });

  it('containers merged by name: upstream adds a sidecar and bumps an image, local adds env', () => {
    const { kpt, ours } = compare(
      { Kptfile: kptfile, 'deploy.yaml': deploy([{ name: 'app', image: 'app:1' }]) },
      { Kptfile: kptfile, 'deploy.yaml': deploy([{ name: 'app', image: 'app:2' }, { name: 'proxy', image: 'proxy:1' }]) },
      (f) => ({ ...f, 'deploy.yaml': deploy([{ name: 'app', image: 'app:1', env: [{ name: 'MODE', value: 'prod' }] }]) }),
    );
    expect(ours).toEqual(kpt);
  });
});
