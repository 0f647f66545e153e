import { describe, expect, it } from 'vitest';
import { mergePackage } from '../../../lib/merge/package.ts';

// Lists, as kpt merges them: lists the Kubernetes schema keys (containers, env and volumes by name,
// container ports by containerPort + protocol, volumeMounts by mountPath, …) merge element by
// element; every other list — and every list of a custom resource — is one value that upstream
// replaces when upstream changed it.

const deploy = (containers: string, extra = '') =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n${containers}${extra}`;
const merge = (original: string, updated: string, local: string, file = 'd.yaml') =>
  mergePackage({ original: { [file]: original }, updated: { [file]: updated }, local: { [file]: local } })[file];

describe('resource-merge, lists', () => {
  it('containers by name: upstream adds a sidecar (appended, fields in the sorted order kpt writes), local adds env', () => {
    const app = (image: string, env = '') => `        - name: app\n          image: ${image}\n${env}`;
    const env = '          env:\n            - name: MODE\n              value: prod\n';
    const out = merge(deploy(app('app:1')), deploy(app('app:2') + '        - name: sidecar\n          image: proxy:1\n'), deploy(app('app:1', env)));
    expect(out).toBe(deploy(app('app:2', env) + '        - image: proxy:1\n          name: sidecar\n'));
  });

  it('env by name: each side changes a different variable; a local variable stays, an upstream one is appended', () => {
    const env = (vars: [string, string][]) => `        - name: app\n          env:\n${vars.map(([n, v]) => `            - name: ${n}\n              value: "${v}"\n`).join('')}`;
    const out = merge(deploy(env([['A', '1'], ['B', '1']])), deploy(env([['A', '2'], ['B', '1'], ['UP', '1']])), deploy(env([['A', '1'], ['B', '9'], ['MINE', '1']])));
    expect(out).toBe(deploy(env([['A', '2'], ['B', '9'], ['MINE', '1'], ['UP', '1']])));
  });

  it('kpt rule: container ports are keyed by containerPort and protocol, so a protocol change replaces the port at the end', () => {
    const ports = (list: string) => `        - name: app\n          ports:\n${list}`;
    const p = (port: number, protocol?: string) => `            - containerPort: ${port}\n${protocol ? `              protocol: ${protocol}\n` : ''}`;
    const out = merge(deploy(ports(p(80, 'TCP') + p(443, 'TCP'))), deploy(ports(p(80, 'UDP') + p(443, 'TCP'))), deploy(ports(p(80, 'TCP') + p(443, 'TCP') + p(8080))));
    expect(out).toBe(deploy(ports(p(443, 'TCP') + p(8080) + p(80, 'UDP'))));
  });

  it('kpt rule: a container upstream deleted goes, keeping only what the local package added to it (its name moves last, as in kpt)', () => {
    const c = (name: string, more = '') => `        - name: ${name}\n          image: ${name}:1\n${more}`;
    const env = '          env:\n            - name: MINE\n              value: "1"\n';
    const out = merge(deploy(c('app') + c('old') + c('gone')), deploy(c('app')), deploy(c('app') + c('old', env) + c('gone')));
    expect(out).toBe(deploy(c('app') + `        - env:\n            - name: MINE\n              value: "1"\n          name: old\n`));
  });

  it('kpt rule: an element the local package deleted comes back with only the fields upstream changed, then its key', () => {
    const env = (vars: string) => `        - name: app\n          env:\n${vars}`;
    const v = (n: string, value: string, extra = '') => `            - name: ${n}\n              value: "${value}"\n${extra}`;
    const out = merge(
      deploy(env(v('A', '1') + v('B', '1', '              extra: "1"\n'))),
      deploy(env(v('A', '1') + v('B', '2', '              extra: "1"\n'))),
      deploy(env(v('A', '1'))),
    );
    expect(out).toBe(deploy(env(v('A', '1') + '            - value: "2"\n              name: B\n')));
  });

  it('volumes by name and volumeMounts by mountPath', () => {
    const spec = (mounts: string, volumes: string) => deploy(`        - name: app\n          volumeMounts:\n${mounts}`, `      volumes:\n${volumes}`);
    const m = (path: string, name: string, ro = '') => `            - mountPath: ${path}\n              name: ${name}\n${ro}`;
    const vol = (name: string) => `        - name: ${name}\n          emptyDir: {}\n`;
    const out = merge(
      spec(m('/data', 'data'), vol('data')),
      spec(m('/data', 'data', '              readOnly: true\n') + m('/cache', 'cache'), vol('data') + vol('cache')),
      spec(m('/data', 'data') + m('/mine', 'mine'), vol('data') + vol('mine')),
    );
    expect(out).toBe(
      spec(
        m('/data', 'data', '              readOnly: true\n') + m('/mine', 'mine') + m('/cache', 'cache'),
        vol('data') + vol('mine') + '        - emptyDir: {}\n          name: cache\n',
      ),
    );
  });

  it('a plain list (args) upstream changed takes upstream’s value, also over a local change (upstream wins)', () => {
    const args = (xs: string) => `        - name: app\n          args: [${xs}]\n`;
    expect(merge(deploy(args('a')), deploy(args('a, up')), deploy(args('a, local')))).toBe(deploy(args('a, up')));
  });

  it('a plain list only the local package changed keeps the local value', () => {
    const args = (xs: string) => `        - name: app\n          args: [${xs}]\n`;
    const out = merge(deploy(args('a'), '      restartPolicy: Always\n'), deploy(args('a'), '      restartPolicy: Never\n'), deploy(args('a, local'), '      restartPolicy: Always\n'));
    expect(out).toBe(deploy(args('a, local'), '      restartPolicy: Never\n'));
  });

  it('kpt rule: lists of a custom resource merge whole, even with names — upstream’s list replaces local edits', () => {
    const t = (items: string) => `apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: t\nspec:\n  items:\n${items}`;
    const i = (n: string, v: string) => `    - name: ${n}\n      v: "${v}"\n`;
    expect(merge(t(i('a', '1') + i('b', '1')), t(i('a', '2') + i('b', '1')), t(i('a', '1') + i('b', '9')), 't.yaml')).toBe(t(i('a', '2') + i('b', '1')));
  });

  it('kpt rule: a keyed list upstream deleted goes entirely, with the elements the local package added', () => {
    const out = merge(
      deploy('        - name: app\n          env:\n            - name: A\n              value: "1"\n'),
      deploy('        - name: app\n'),
      deploy('        - name: app\n          env:\n            - name: A\n              value: "1"\n            - name: MINE\n              value: "1"\n'),
    );
    expect(out).toBe(deploy('        - name: app\n'));
  });

  it('finalizers merge as a set: upstream’s additions and removals apply, local additions stay', () => {
    const cm = (fin: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  finalizers:\n${fin}data:\n  x: "1"\n`;
    const f = (...xs: string[]) => xs.map((x) => `    - ${x}\n`).join('');
    expect(merge(cm(f('a', 'b')), cm(f('a', 'up')), cm(f('a', 'b', 'mine')), 'cm.yaml')).toBe(cm(f('a', 'mine', 'up')));
  });
});
