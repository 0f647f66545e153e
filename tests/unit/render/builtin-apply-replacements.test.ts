import { describe, expect, it } from 'vitest';
import { render } from '../../../lib/render/render.ts';
import { builtinRuntime } from '../../../lib/render/runtimes/builtin.ts';

// The catalog's documented examples of apply-replacements (examples/*/ of kpt-functions-catalog): the package as
// published, rendered with the built-in, must equal the package after the example's .expected/diff.patch.
// The examples pin `:unstable`; the built-in serves the released tag named here.

describe('built-in apply-replacements: catalog examples', () => {
  it('apply-replacements-simple', async () => {
    const files: Record<string, string> = {
      'Kptfile': `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: example
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
    - image: gcr.io/kpt-fn/apply-replacements:v0.1.1
      configPath: replacements.yaml
`,
      'job.yaml': `apiVersion: batch/v1
kind: Job
metadata:
  name: hello
`,
      'replacements.yaml': `apiVersion: fn.kpt.dev/v1alpha1
kind: ApplyReplacements
metadata:
  name: replacements-fn-config
replacements:
  - source:
      kind: Pod
      name: my-pod
      fieldPath: spec
    targets:
      - select:
          name: hello
          kind: Job
        fieldPaths:
          - spec.template.spec
        options:
          create: true
`,
      'resources.yaml': `apiVersion: v1
kind: Pod
metadata:
  name: my-pod
spec:
  containers:
    - image: busybox
      name: myapp-container
  restartPolicy: OnFailure
`,
    };
    const expected: Record<string, string> = {
      'job.yaml': `apiVersion: batch/v1
kind: Job
metadata:
  name: hello
spec:
  template:
    spec:
      containers:
      - image: busybox
        name: myapp-container
      restartPolicy: OnFailure
`,
      'replacements.yaml': `apiVersion: fn.kpt.dev/v1alpha1
kind: ApplyReplacements
metadata:
  name: replacements-fn-config
replacements:
  - source:
      kind: Pod
      name: my-pod
      fieldPath: spec
    targets:
      - select:
          name: hello
          kind: Job
        fieldPaths:
          - spec.template.spec
        options:
          create: true
`,
      'resources.yaml': `apiVersion: v1
kind: Pod
metadata:
  name: my-pod
spec:
  containers:
    - image: busybox
      name: myapp-container
  restartPolicy: OnFailure
`,
    };
    const { files: out, results } = await render(files, { runtimes: [builtinRuntime()] });
    expect(results.exitCode).toBe(0);
    expect(out).toEqual({ ...expected, Kptfile: files.Kptfile });
  });

});
