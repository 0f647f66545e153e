import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RenderError } from '../../../lib/render/errors.ts';
import { render } from '../../../lib/render/render.ts';
import { builtinRuntime } from '../../../lib/render/runtimes/builtin.ts';
import { functionRunnerRuntime, type FunctionRunnerRuntime } from '../../../lib/render/runtimes/function-runner.ts';
import { startFunctionRunnerStandIn, type FunctionRunnerStandIn } from '../../support/function-runner-stand-in.ts';

// Porch's function runner, played by the stand-in in tests/support.

let standIn: FunctionRunnerStandIn;
let runner: FunctionRunnerRuntime;

beforeAll(async () => {
  standIn = await startFunctionRunnerStandIn();
  runner = functionRunnerRuntime({ address: standIn.address, timeoutMs: 5000 });
});
afterAll(() => {
  runner.close();
  standIn.stop();
});

const kptfile = (...images: string[]) => `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\npipeline:\n  mutators:\n${images.map((i) => `    - image: ${i}\n`).join('')}`;
const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c # keep me\n';

describe('function runner runtime (gRPC stand-in)', () => {
  it('evaluates images the built-ins do not serve; built-ins still run in process', async () => {
    standIn.seen.length = 0;
    const files = { Kptfile: kptfile('gcr.io/kpt-fn/set-annotations:v0.1.4', 'gcr.io/kpt-fn/starlark:v0.5.0'), 'c.yaml': cm };
    const pipeline = files.Kptfile.replace('set-annotations:v0.1.4\n', 'set-annotations:v0.1.4\n      configMap:\n        team: a\n');
    const out = await render({ ...files, Kptfile: pipeline }, { runtimes: [builtinRuntime(), runner] });
    expect(standIn.seen).toEqual(['gcr.io/kpt-fn/starlark:v0.5.0']);
    expect(out.files['c.yaml']).toBe('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c # keep me\n  annotations:\n    team: a\n    ran-by: gcr.io/kpt-fn/starlark:v0.5.0\n');
    expect(out.results.items.map((i) => [i.image, i.exitCode, i.stderr])).toEqual([
      ['gcr.io/kpt-fn/set-annotations:v0.1.4', 0, undefined],
      ['gcr.io/kpt-fn/starlark:v0.5.0', 0, 'ran gcr.io/kpt-fn/starlark:v0.5.0\n'],
    ]);
  });

  it("reports a function the runner failed with the runner's message", async () => {
    const err = (await render({ Kptfile: kptfile('example.com/broken:v1'), 'c.yaml': cm }, { runtimes: [builtinRuntime(), runner] }).catch((e: unknown) => e)) as RenderError;
    expect(err).toBeInstanceOf(RenderError);
    expect(err.message).toBe('error rendering package in kpt function pipeline: package ".": function "example.com/broken:v1" failed: function pod exited with 1: broken on purpose');
  });

  it('reports a runner that is not there', async () => {
    const gone = functionRunnerRuntime({ address: '127.0.0.1:1', timeoutMs: 2000 });
    try {
      const err = (await render({ Kptfile: kptfile('example.com/any:v1'), 'c.yaml': cm }, { runtimes: [gone] }).catch((e: unknown) => e)) as RenderError;
      expect(err.message).toMatch(/^error rendering package in kpt function pipeline: package "\.": function "example.com\/any:v1" failed: function runner at 127.0.0.1:1 is unavailable/);
      expect(err.reason).toBe('runtime-unavailable');
    } finally {
      gone.close();
    }
  });
});
