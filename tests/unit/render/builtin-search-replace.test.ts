import { describe, expect, it } from 'vitest';
import { render } from '../../../lib/render/render.ts';
import { builtinRuntime } from '../../../lib/render/runtimes/builtin.ts';

// The catalog's documented examples of search-replace (examples/*/ of kpt-functions-catalog): the package as
// published, rendered with the built-in, must equal the package after the example's .expected/diff.patch.
// The examples pin `:unstable`; the built-in serves the released tag named here.

describe('built-in search-replace: catalog examples', () => {
  it('search-replace-simple', async () => {
    const files: Record<string, string> = {
      'Kptfile': `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: example
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
    - image: gcr.io/kpt-fn/search-replace:v0.2.0
      configMap:
        by-path: metadata.name
        by-value: the-deployment
        put-value: my-deployment
`,
      'resources.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: the-deployment
  namespace: my-space
`,
    };
    const expected: Record<string, string> = {
      'resources.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: my-deployment
  namespace: my-space
`,
    };
    const { files: out, results } = await render(files, { runtimes: [builtinRuntime()] });
    expect(results.exitCode).toBe(0);
    expect(out).toEqual({ ...expected, Kptfile: files.Kptfile });
  });

});
