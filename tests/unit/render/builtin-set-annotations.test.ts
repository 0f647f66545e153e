import { describe, expect, it } from 'vitest';
import { render } from '../../../lib/render/render.ts';
import { builtinRuntime } from '../../../lib/render/runtimes/builtin.ts';

// The catalog's documented examples of set-annotations (examples/*/ of kpt-functions-catalog): the package as
// published, rendered with the built-in, must equal the package after the example's .expected/diff.patch.
// The examples pin `:unstable`; the built-in serves the released tag named here.

describe('built-in set-annotations: catalog examples', () => {
  it('set-annotations-simple', async () => {
    const files: Record<string, string> = {
      'Kptfile': `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: example
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
    - image: ghcr.io/kptdev/krm-functions-catalog/set-annotations:v0.1.4
      configMap:
        color: orange
        fruit: apple
      selectors:
        - kind: ConfigMap
        - kind: Namespace
`,
      'resources.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: the-map
data:
  some-key: some-value
---
apiVersion: v1
kind: Namespace
metadata:
  name: ns
`,
    };
    const expected: Record<string, string> = {
      'resources.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: the-map
  annotations:
    color: orange
    fruit: apple
data:
  some-key: some-value
---
apiVersion: v1
kind: Namespace
metadata:
  name: ns
  annotations:
    color: orange
    fruit: apple
`,
    };
    const { files: out, results } = await render(files, { runtimes: [builtinRuntime()] });
    expect(results.exitCode).toBe(0);
    expect(out).toEqual({ ...expected, Kptfile: files.Kptfile });
  });

});
