import { describe, expect, it } from 'vitest';
import { render } from '../../../lib/render/render.ts';
import { builtinRuntime } from '../../../lib/render/runtimes/builtin.ts';

// Behaviour the catalog READMEs document beyond the examples/ packages, each with its exact output.

const KPTFILE = (fn: string) => `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\n  annotations:\n    config.kubernetes.io/local-config: "true"\npipeline:\n  mutators:\n${fn}`;

async function rendered(fn: string, files: Record<string, string>) {
  const out = await render({ Kptfile: KPTFILE(fn), ...files }, { runtimes: [builtinRuntime()] });
  return out;
}

describe('built-ins: documented behaviour', () => {
  // Under `kpt fn render` the Kptfile is one of the items (unlike `kpt fn eval`), so the README's
  // imperative example excludes it here.
  it('search-replace: regex with numbered capture groups', async () => {
    const out = await rendered("    - image: gcr.io/kpt-fn/search-replace:v0.2.0\n      configMap:\n        by-value-regex: something-(.*)\n        put-value: my-project-id-${1}\n      exclude:\n        - kind: Kptfile\n", {
      'r.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: something-foo\n  namespace: something-bar\n',
    });
    expect(out.files['r.yaml']).toBe('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: my-project-id-foo\n  namespace: my-project-id-bar\n');
    expect(out.results.items[0].results).toEqual([
      { message: 'Mutated field value to "my-project-id-foo"', field: { path: 'metadata.name' }, file: { path: 'r.yaml' } },
      { message: 'Mutated field value to "my-project-id-bar"', field: { path: 'metadata.namespace' }, file: { path: 'r.yaml' } },
    ]);
  });

  it('search-replace: by-path sets a field even where it is not set; ** matches any depth', async () => {
    const out = await rendered("    - image: gcr.io/kpt-fn/search-replace:v0.2.0\n      configMap:\n        by-path: metadata.namespace\n        put-value: bookstore\n    - image: gcr.io/kpt-fn/search-replace:v0.2.0\n      configMap:\n        by-path: spec.**.containerPort\n        by-value: \"80\"\n        put-value: \"8080\"\n", {
      'd.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      containers:\n        - name: c\n          ports:\n            - containerPort: 80\n            - containerPort: 81\n',
    });
    expect(out.files['d.yaml']).toBe('apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  namespace: bookstore\nspec:\n  template:\n    spec:\n      containers:\n        - name: c\n          ports:\n            - containerPort: 8080\n            - containerPort: 81\n');
  });

  it('set-image: digest, and the summary result', async () => {
    const out = await rendered('    - image: gcr.io/kpt-fn/set-image:v0.1.1\n      configMap:\n        name: nginx\n        newName: nginx\n        digest: sha256:3cbbd11b65aab276c8578c039d0c21d0ffb7a496e09c0f632bac1a1b2c115256\n', {
      'p.yaml': 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  initContainers:\n  - name: i\n    image: nginx:1.20\n  containers:\n  - name: c\n    image: nginx\n  - name: d\n    image: nginx-other:1\n',
    });
    const d = 'nginx@sha256:3cbbd11b65aab276c8578c039d0c21d0ffb7a496e09c0f632bac1a1b2c115256';
    expect(out.files['p.yaml']).toBe(`apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  initContainers:\n  - name: i\n    image: ${d}\n  containers:\n  - name: c\n    image: ${d}\n  - name: d\n    image: nginx-other:1\n`);
    expect(out.results.items[0].results).toEqual([{ message: 'summary: updated a total of 2 image(s)', severity: 'info' }]);
  });

  it('apply-replacements: a delimited part of a value into list elements picked by name', async () => {
    const config = 'apiVersion: fn.kpt.dev/v1alpha1\nkind: ApplyReplacements\nmetadata:\n  name: r\n  annotations:\n    config.kubernetes.io/local-config: "true"\nreplacements:\n  - source:\n      kind: ConfigMap\n      name: env\n      fieldPath: data.image\n      options:\n        delimiter: ":"\n        index: 1\n    targets:\n      - select:\n          kind: Deployment\n        fieldPaths:\n          - spec.template.spec.containers.[name=app].image\n        options:\n          delimiter: ":"\n          index: 1\n';
    const out = await rendered('    - image: gcr.io/kpt-fn/apply-replacements:v0.1.1\n      configPath: replacements.yaml\n', {
      'replacements.yaml': config,
      'env.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: env\ndata:\n  image: registry/app:2.0\n',
      'd.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      containers:\n        - name: side\n          image: side:1.0\n        - name: app\n          image: app:1.0 # bumped by the pipeline\n',
    });
    expect(out.files['d.yaml']).toBe('apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      containers:\n        - name: side\n          image: side:1.0\n        - name: app\n          image: app:2.0 # bumped by the pipeline\n');
  });

  it('apply-replacements: a missing source fails the function', async () => {
    const err = await rendered('    - image: gcr.io/kpt-fn/apply-replacements:v0.1.1\n      configPath: r.yaml\n', {
      'r.yaml': 'apiVersion: fn.kpt.dev/v1alpha1\nkind: ApplyReplacements\nmetadata:\n  name: r\n  annotations:\n    config.kubernetes.io/local-config: "true"\nreplacements:\n  - source:\n      kind: Secret\n      name: none\n    targets: []\n',
    }).catch((e: unknown) => e as Error);
    expect((err as Error).message).toBe('error rendering package in kpt function pipeline: package ".": function "gcr.io/kpt-fn/apply-replacements:v0.1.1" failed: nothing selected by Secret/none:metadata.name');
  });

  it('set-namespace: namespaceMatcher changes only the matching namespace', async () => {
    const out = await rendered('    - image: gcr.io/kpt-fn/set-namespace:v0.4.1\n      configMap:\n        namespace: prod\n        namespaceMatcher: dev\n', {
      'r.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: dev\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  namespace: other\n',
    });
    expect(out.files['r.yaml']).toBe('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: prod\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  namespace: other\n');
  });

  it('an image under a catalog registry with a tag the built-in does not implement is not served in process', async () => {
    const err = await rendered('    - image: gcr.io/kpt-fn/set-namespace:v0.2.0\n      configMap:\n        namespace: x\n', {}).catch((e: unknown) => e as Error);
    expect((err as Error).message).toBe('error rendering package in kpt function pipeline: function "gcr.io/kpt-fn/set-namespace:v0.2.0" is not available: no runtime serves it (tried: built-in)');
  });
});
