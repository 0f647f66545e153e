import { describe, expect, it } from 'vitest';
import { RenderError } from '../../../lib/render/errors.ts';
import { render, tryRender } from '../../../lib/render/render.ts';
import type { FunctionRuntime } from '../../../lib/render/runtime.ts';
import { builtinRuntime } from '../../../lib/render/runtimes/builtin.ts';

const KPTFILE = (mutators: string) => `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\npipeline:\n  mutators:\n${mutators}`;

/** A runtime serving example.com/move: moves every item to moved/<name>.yaml through the legacy annotation only. */
const mover: FunctionRuntime = {
  name: 'test',
  lookup: (image) =>
    image.startsWith('example.com/move')
      ? async ({ items }) => {
          for (const d of items) d.setIn(['metadata', 'annotations', 'config.kubernetes.io/path'], `moved/${String(d.getIn(['metadata', 'name']))}.yaml`);
          return { items: items.filter((d) => d.get('kind') !== 'Kptfile').concat(items.filter((d) => d.get('kind') === 'Kptfile').map((d) => d)), results: [] };
        }
      : undefined,
};

describe('render', () => {
  it('renders a 20-resource package with three built-in mutators well under 50 ms', async () => {
    const files: Record<string, string> = {
      Kptfile: KPTFILE(
        '    - image: gcr.io/kpt-fn/set-namespace:v0.4.1\n      configMap:\n        namespace: prod\n    - image: gcr.io/kpt-fn/set-labels:v0.2.0\n      configMap:\n        app: shop\n    - image: gcr.io/kpt-fn/set-annotations:v0.1.4\n      configMap:\n        owner: team-a\n',
      ),
    };
    for (let i = 0; i < 20; i++) {
      files[`r${i}.yaml`] =
        i % 2
          ? `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d${i}\n  namespace: dev\nspec:\n  selector:\n    matchLabels:\n      x: "${i}"\n  template:\n    metadata:\n      labels:\n        x: "${i}"\n    spec:\n      containers:\n        - name: c\n          image: nginx:1.${i}\n`
          : `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c${i}\n  namespace: dev\ndata:\n  k: v${i}\n`;
    }
    const runtimes = [builtinRuntime()];
    for (let i = 0; i < 5; i++) await render(files, { runtimes });
    // CPU time, not wall time: test machines run several suites at once, and a render that waits
    // for a core has not become slower.
    const times: number[] = [];
    for (let i = 0; i < 21; i++) {
      const t = process.cpuUsage();
      const out = await render(files, { runtimes });
      const used = process.cpuUsage(t);
      times.push((used.user + used.system) / 1000);
      expect(out.files['r1.yaml']).toContain('namespace: prod');
    }
    times.sort((a, b) => a - b);
    expect(times[10]).toBeLessThan(50);
  });

  it('passes files that are not resources through as they are, bytes included', async () => {
    const bytes = new Uint8Array([0xff, 0xfe, 0x00, 0x80]);
    const files = { Kptfile: KPTFILE('    - image: gcr.io/kpt-fn/set-labels:v0.2.0\n      configMap:\n        a: b\n'), 'bin/blob.dat': bytes, 'notes.txt': 'hello' };
    const out = await render(files, { runtimes: [builtinRuntime()] });
    expect(out.files['bin/blob.dat']).toBe(bytes);
    expect(out.files['notes.txt']).toBe('hello');
  });

  it('moves a resource whose path annotation the function changed (legacy spelling) and deletes the emptied file', async () => {
    const files = { Kptfile: KPTFILE('    - image: example.com/move:v1\n      selectors:\n        - kind: ConfigMap\n'), 'a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n' };
    const out = await render(files, { runtimes: [mover] });
    expect(Object.keys(out.files).sort()).toEqual(['Kptfile', 'moved/one.yaml']);
    expect(out.files['moved/one.yaml']).toBe('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n');
  });

  it('fails on a YAML file that is not a KRM resource, as kpt does', async () => {
    const err = (await render({ Kptfile: KPTFILE('    - image: gcr.io/kpt-fn/set-labels:v0.2.0\n      configMap:\n        a: b\n'), 'list.yaml': '- a\n- b\n' }, { runtimes: [builtinRuntime()] }).catch((e: unknown) => e)) as RenderError;
    expect(err).toBeInstanceOf(RenderError);
    expect(err.message).toBe('error rendering package in kpt function pipeline: input resource list must contain only KRM resources: list.yaml: resource must be a map');
  });

  it('leaves a package without a pipeline as it is', async () => {
    const files = { Kptfile: 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\n', 'a.yaml': 'kind:   ConfigMap\napiVersion: v1\nmetadata: {name: a}\n' };
    const out = await render(files, { runtimes: [] });
    expect(out.files).toEqual(files);
    expect(out.results.items).toEqual([]);
  });

  it('reports built-in config errors as the function failing', async () => {
    const err = (await render({ Kptfile: KPTFILE('    - image: gcr.io/kpt-fn/set-namespace:v0.4.1\n') }, { runtimes: [builtinRuntime()] }).catch((e: unknown) => e)) as RenderError;
    expect(err.message).toBe('error rendering package in kpt function pipeline: package ".": function "gcr.io/kpt-fn/set-namespace:v0.4.1" failed: FunctionConfig is missing. Expect `ConfigMap.v1` or `SetNamespace.v1alpha1.fn.kpt.dev`');
  });
});


describe('tryRender', () => {
  it('returns the unrendered files, the error and the results so far instead of throwing', async () => {
    const files = { Kptfile: KPTFILE('    - image: gcr.io/kpt-fn/set-labels:v0.2.0\n      configMap:\n        a: b\n    - image: gcr.io/kpt-fn/set-namespace:v0.4.1\n'), 'a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n' };
    const out = await tryRender(files, { runtimes: [builtinRuntime()] });
    expect(out.files).toBe(files);
    expect(out.error?.fn).toBe('gcr.io/kpt-fn/set-namespace:v0.4.1');
    expect(out.results.exitCode).toBe(1);
    expect(out.results.items.map((i) => [i.image, i.exitCode])).toEqual([
      ['gcr.io/kpt-fn/set-labels:v0.2.0', 0],
      ['gcr.io/kpt-fn/set-namespace:v0.4.1', 1],
    ]);
  });
});

describe('.krmignore', () => {
  it('leaves the files it names out of the resources, as kpt does', async () => {
    const files = {
      Kptfile: KPTFILE('    - image: gcr.io/kpt-fn/set-labels:v0.2.0\n      configMap:\n        a: b\n'),
      '.krmignore': '# test data\n.expected\n/notes/*.yaml\n',
      '.expected/config.yaml': '- not a resource\n',
      'notes/list.yaml': '- nor this\n',
      'notes/deeper/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n',
    };
    const out = await render(files, { runtimes: [builtinRuntime()] });
    expect(out.files['.expected/config.yaml']).toBe(files['.expected/config.yaml']);
    expect(out.files['notes/list.yaml']).toBe(files['notes/list.yaml']);
    expect(out.files['notes/deeper/cm.yaml']).toBe('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    a: b\n');
  });
});
