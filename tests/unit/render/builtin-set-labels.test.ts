import { describe, expect, it } from 'vitest';
import { render } from '../../../lib/render/render.ts';
import { builtinRuntime } from '../../../lib/render/runtimes/builtin.ts';

// The catalog's documented examples of set-labels (examples/*/ of kpt-functions-catalog): the package as
// published, rendered with the built-in, must equal the package after the example's .expected/diff.patch.
// The examples pin `:unstable`; the built-in serves the released tag named here.

describe('built-in set-labels: catalog examples', () => {
  it('set-labels-simple', async () => {
    const files: Record<string, string> = {
      'Kptfile': `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: example
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
    - image: gcr.io/kpt-fn/set-labels:v0.2.0
      configMap:
        color: orange
        fruit: apple
      selectors:
        - kind: ConfigMap
        - kind: MyResource
`,
      'resources.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: the-map
data:
  some-key: some-value
---
apiVersion: dev.example.com/v1
kind: MyResource
metadata:
  name: the-service
  namespace: the-namespace
spec:
  selector:
    labels:
      foo: bar
`,
    };
    const expected: Record<string, string> = {
      'resources.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: the-map
  labels:
    color: orange
    fruit: apple
data:
  some-key: some-value
---
apiVersion: dev.example.com/v1
kind: MyResource
metadata:
  name: the-service
  namespace: the-namespace
  labels:
    color: orange
    fruit: apple
spec:
  selector:
    labels:
      foo: bar
`,
    };
    const { files: out, results } = await render(files, { runtimes: [builtinRuntime()] });
    expect(results.exitCode).toBe(0);
    expect(out).toEqual({ ...expected, Kptfile: files.Kptfile });
  });

});
