import { describe, expect, it } from 'vitest';
import { render } from '../../../lib/render/render.ts';
import { builtinRuntime } from '../../../lib/render/runtimes/builtin.ts';

// The catalog's documented examples of set-image (examples/*/ of kpt-functions-catalog): the package as
// published, rendered with the built-in, must equal the package after the example's .expected/diff.patch.
// The examples pin `:unstable`; the built-in serves the released tag named here.

describe('built-in set-image: catalog examples', () => {
  it('set-image-simple', async () => {
    const files: Record<string, string> = {
      'Kptfile': `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: example
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
    - image: gcr.io/kpt-fn/set-image:v0.1.1
      configMap:
        name: nginx
        newName: bitnami/nginx
        newTag: 1.21.4
`,
      'resources.yaml': `apiVersion: v1
kind: Pod
metadata:
  name: app1
spec:
  containers:
  - name: server
    image: nginx:1.20.2
  - name: store
    image: postgres:14.1
---
apiVersion: v1
kind: Pod
metadata:
  name: app2
spec:
  containers:
  - name: store
    image: redis:6.2.6
  - name: server
    image: nginx:1.20.2
`,
    };
    const expected: Record<string, string> = {
      'resources.yaml': `apiVersion: v1
kind: Pod
metadata:
  name: app1
spec:
  containers:
  - name: server
    image: bitnami/nginx:1.21.4
  - name: store
    image: postgres:14.1
---
apiVersion: v1
kind: Pod
metadata:
  name: app2
spec:
  containers:
  - name: store
    image: redis:6.2.6
  - name: server
    image: bitnami/nginx:1.21.4
`,
    };
    const { files: out, results } = await render(files, { runtimes: [builtinRuntime()] });
    expect(results.exitCode).toBe(0);
    expect(out).toEqual({ ...expected, Kptfile: files.Kptfile });
  });

  it('set-image-advanced', async () => {
    const files: Record<string, string> = {
      'Kptfile': `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: example
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
    - image: ghcr.io/kptdev/krm-functions-catalog/set-image:v0.1.1
      configPath: fn-config.yaml
`,
      'fn-config.yaml': `apiVersion: fn.kpt.dev/v1alpha1
kind: SetImage
metadata:
  name: my-func-config
  annotations:
    config.kubernetes.io/local-config: "true"
image:
  name: nginx
  newName: bitnami/nginx
  newTag: 1.21.4
additionalImageFields:
  - kind: MyKind
    create: false
    group: dev.example.com
    path: spec/manifest/images[]/image
    version: v1
`,
      'resources.yaml': `apiVersion: v1
kind: Pod
metadata:
  name: the-pod
spec:
  containers:
  - name: server
    image: nginx:1.20.2
  - name: store
    image: postgres:14.1
---
apiVersion: dev.example.com/v1
kind: MyKind
metadata:
  name: the-resource
  namespace: the-namespace
spec:
  manifest:
    images:
    - image: nginx:1.20.2
    - image: postgres:14.1
`,
    };
    const expected: Record<string, string> = {
      'fn-config.yaml': `apiVersion: fn.kpt.dev/v1alpha1
kind: SetImage
metadata:
  name: my-func-config
  annotations:
    config.kubernetes.io/local-config: "true"
image:
  name: nginx
  newName: bitnami/nginx
  newTag: 1.21.4
additionalImageFields:
  - kind: MyKind
    create: false
    group: dev.example.com
    path: spec/manifest/images[]/image
    version: v1
`,
      'resources.yaml': `apiVersion: v1
kind: Pod
metadata:
  name: the-pod
spec:
  containers:
  - name: server
    image: bitnami/nginx:1.21.4
  - name: store
    image: postgres:14.1
---
apiVersion: dev.example.com/v1
kind: MyKind
metadata:
  name: the-resource
  namespace: the-namespace
spec:
  manifest:
    images:
    - image: bitnami/nginx:1.21.4
    - image: postgres:14.1
`,
    };
    const { files: out, results } = await render(files, { runtimes: [builtinRuntime()] });
    expect(results.exitCode).toBe(0);
    expect(out).toEqual({ ...expected, Kptfile: files.Kptfile });
  });

});
