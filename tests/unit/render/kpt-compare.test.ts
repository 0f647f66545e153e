import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { render } from '../../../lib/render/render.ts';
import { RenderError } from '../../../lib/render/errors.ts';
import { execRuntime } from '../../../lib/render/runtimes/exec.ts';
import type { ExecFunction } from '../../../lib/render/function-config.ts';

// The reference: the same package rendered by `kpt fn render --allow-exec` (functions named by `exec:`)
// and by lib/render (the same programs mapped to images by the operator's function config). Both must
// produce the same files with the same resources; kpt reformats every YAML file it reads, so
// resources are compared as values, and lib/render must keep untouched files byte for byte.

const KPT = '/usr/lib/google-cloud-sdk/bin/kpt';
const FN = fileURLToPath(new URL('./fixtures/krm-fn.mjs', import.meta.url));
const MODES = ['label', 'add', 'delete', 'fail'];
const root = mkdtempSync(join(tmpdir(), 'porch-render-kpt-'));
afterAll(() => (process.env.KEEP_RENDER_TMP ? undefined : rmSync(root, { recursive: true, force: true })));

const wrappers: Record<string, string> = {};
for (const m of MODES) {
  wrappers[m] = join(root, `${m}.sh`);
  writeFileSync(wrappers[m], `#!/bin/sh\nexec ${process.execPath} ${FN} ${m}\n`);
  chmodSync(wrappers[m], 0o755);
}
const functions: ExecFunction[] = MODES.map((m) => ({ image: `example.com/fn/${m}`, exec: process.execPath, args: [FN, m], timeoutMs: 20_000 }));
const runtimes = [execRuntime(functions)];

/** The package for kpt: each `image: example.com/fn/MODE:TAG` becomes `exec: WRAPPER`. */
const forKpt = (text: string) => text.replace(/image: example\.com\/fn\/(\w+):\S+/g, (_, m: string) => `exec: ${wrappers[m]}`);
const fromKpt = (text: string) => {
  let t = text;
  for (const m of MODES) t = t.split(`exec: ${wrappers[m]}`).join(`image: example.com/fn/${m}:v1`);
  return t;
};

function writeTree(dir: string, files: Record<string, string>): void {
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), p.endsWith('Kptfile') ? forKpt(text) : text);
  }
}

function readTree(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const p = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, readTree(dir, p));
    else out[p] = p.endsWith('Kptfile') ? fromKpt(readFileSync(join(dir, p), 'utf8')) : readFileSync(join(dir, p), 'utf8');
  }
  return out;
}

function values(files: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [p, text] of Object.entries(files)) {
    out[p] = p.endsWith('Kptfile') || /\.ya?ml$/.test(p) ? YAML.parseAllDocuments(String(text)).map((d) => d.toJS()) : text;
  }
  return out;
}

let n = 0;
function kptRender(files: Record<string, string>): { status: number; files: Record<string, string>; results: Record<string, unknown>; stderr: string } {
  const dir = join(root, `pkg${++n}`);
  const results = join(root, `results${n}`);
  writeTree(dir, files);
  const r = spawnSync(KPT, ['fn', 'render', '--allow-exec', dir, '--results-dir', results], { encoding: 'utf8' });
  const res = YAML.parse(readFileSync(join(results, 'results.yaml'), 'utf8')) as Record<string, unknown>;
  return { status: r.status ?? -1, files: readTree(dir), results: res, stderr: r.stderr };
}

const PKG: Record<string, string> = {
  Kptfile: `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: app
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
    - image: example.com/fn/label:v1
      name: label-web
      configPath: label-config.yaml
      selectors:
        - kind: ConfigMap
        - labels:
            tier: web
      exclude:
        - name: skip-me
        - annotations:
            config.kubernetes.io/local-config: "true"
    - image: example.com/fn/add:v1
      configMap:
        name: added
    - image: example.com/fn/delete:v1
  validators:
    - image: example.com/fn/label:v1
      configMap:
        key: validated
        value: "yes"
`,
  'label-config.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: label-config
  annotations:
    config.kubernetes.io/local-config: "true"
data:
  key: colour
  value: blue
`,
  'cm.yaml': `# two config maps and one to delete
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config # the one that gets a label
data:
  a: "1"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: skip-me
---
apiVersion: v1
kind: Secret
metadata:
  name: old
  labels:
    delete: me
`,
  'deploy.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    tier: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx   # pinned elsewhere
`,
  'gone.yaml': `apiVersion: v1
kind: Service
metadata:
  name: gone
  labels:
    delete: me
`,
  'svc.yaml': `apiVersion: v1
kind: Service
metadata:
    name: untouched    # odd indentation kpt would rewrite
spec:
    ports: [{port: 80}]
`,
  'README.md': 'not a resource\n',
  'sub/Kptfile': `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: sub
pipeline:
  mutators:
    - image: example.com/fn/label:v1
      configMap:
        key: sub
        value: done
      exclude:
        - kind: Kptfile
    - image: example.com/fn/add:v1
      configMap:
        name: sub-added
`,
  'sub/cm.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: sub-config
`,
  'sub/deeper/role.yaml': `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: reader
  namespace: team
rules: []
`,
};

describe('render compared with kpt fn render', () => {
  it('subpackages, selectors, exclude, configPath, configMap, added and deleted resources, a validator', async () => {
    const kpt = kptRender(PKG);
    expect(kpt.status, kpt.stderr).toBe(0);
    const ours = await render(PKG, { runtimes });
    expect(values(ours.files)).toEqual(values(kpt.files));
    expect(Object.keys(ours.files).sort()).toEqual(Object.keys(kpt.files).sort());
    // Created without a path: kpt's default file name, in the directory of the package whose function made it.
    expect(Object.keys(ours.files)).toEqual(expect.arrayContaining(['configmap_added.yaml', 'sub/configmap_sub-added.yaml']));
    expect(ours.files['gone.yaml']).toBeUndefined();
    // What no function changed keeps its bytes (kpt reformats it).
    for (const p of ['svc.yaml', 'README.md', 'Kptfile', 'label-config.yaml']) expect(ours.files[p]).toBe(PKG[p]);
    expect(kpt.files['svc.yaml']).not.toBe(PKG['svc.yaml']);
    // A changed file keeps its comments.
    expect(ours.files['cm.yaml']).toContain('# two config maps and one to delete');
    expect(ours.files['cm.yaml']).toContain('name: web-config # the one that gets a label');
    expect(ours.files['deploy.yaml']).toContain('image: nginx # pinned elsewhere');
    const items = (kpt.results.items as { exitCode: number }[]).map((i) => i.exitCode);
    expect(ours.results.items.map((i) => i.exitCode)).toEqual(items);
    expect(ours.results.items.map((i) => i.image)).toEqual(['example.com/fn/label:v1', 'example.com/fn/add:v1', 'example.com/fn/label:v1', 'example.com/fn/add:v1', 'example.com/fn/delete:v1', 'example.com/fn/label:v1']);
  });

  it('a failing validator fails both, and lib/render names the function', async () => {
    const pkg = { ...PKG, Kptfile: PKG.Kptfile.replace(/ {2}validators:\n[\s\S]*$/, '  validators:\n    - image: example.com/fn/fail:v1\n') };
    const kpt = kptRender(pkg);
    expect(kpt.status).not.toBe(0);
    const err = await render(pkg, { runtimes }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RenderError);
    const re = err as RenderError;
    expect(re.message).toMatch(/^error rendering package in kpt function pipeline: package "\.": function "example.com\/fn\/fail:v1" failed: exit code 1: failing on purpose/);
    expect(re.fn).toBe('example.com/fn/fail:v1');
    const last = re.results!.items.at(-1)!;
    const kptLast = (kpt.results.items as { exitCode: number; results: unknown; stderr: string }[]).at(-1)!;
    expect({ exitCode: last.exitCode, results: last.results, stderr: last.stderr }).toEqual({ exitCode: kptLast.exitCode, results: kptLast.results, stderr: kptLast.stderr });
  });
});

