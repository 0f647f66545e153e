import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { RenderError } from '../../../lib/render/errors.ts';
import { render } from '../../../lib/render/render.ts';
import { builtinRuntime } from '../../../lib/render/runtimes/builtin.ts';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, EVALUATE_PATH, type EvaluateRequest, type EvaluateResponse } from '../../../lib/render/runtimes/evaluator-wire.ts';
import { functionRunnerRuntime, type FunctionRunnerRuntime } from '../../../lib/render/runtimes/function-runner.ts';

// A stand-in for Porch's function runner: the evaluator.FunctionEvaluator service on a local port.
// It annotates every item with the image that "ran", fails example.com/broken the way the real
// runner reports a failed function pod, and returns a log.

const seen: string[] = [];

function evaluate(call: ServerUnaryCall<EvaluateRequest, EvaluateResponse>, done: sendUnaryData<EvaluateResponse>): void {
  const { image, resourceList } = call.request;
  seen.push(image);
  if (image.startsWith('example.com/broken')) {
    done({ code: status.INTERNAL, details: 'function pod exited with 1: broken on purpose' });
    return;
  }
  const rl = YAML.parse(Buffer.from(resourceList).toString('utf8')) as { items: { metadata: { annotations?: Record<string, string> } }[] };
  for (const it of rl.items) it.metadata.annotations = { ...it.metadata.annotations, 'ran-by': image };
  done(null, { resourceList: Buffer.from(YAML.stringify(rl)), log: Buffer.from(`ran ${image}\n`) });
}

const service = {
  EvaluateFunction: {
    path: EVALUATE_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: encodeRequest,
    requestDeserialize: (b: Buffer) => decodeRequest(b),
    responseSerialize: encodeResponse,
    responseDeserialize: (b: Buffer) => decodeResponse(b),
  },
};

let server: Server;
let runner: FunctionRunnerRuntime;

beforeAll(async () => {
  server = new Server();
  server.addService(service, { EvaluateFunction: evaluate } as UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  runner = functionRunnerRuntime({ address: `127.0.0.1:${port}`, timeoutMs: 5000 });
});
afterAll(() => {
  runner.close();
  server.forceShutdown();
});

const kptfile = (...images: string[]) => `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\npipeline:\n  mutators:\n${images.map((i) => `    - image: ${i}\n`).join('')}`;
const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c # keep me\n';

describe('function runner runtime (gRPC stand-in)', () => {
  it('evaluates images the built-ins do not serve; built-ins still run in process', async () => {
    seen.length = 0;
    const files = { Kptfile: kptfile('gcr.io/kpt-fn/set-annotations:v0.1.4', 'gcr.io/kpt-fn/starlark:v0.5.0'), 'c.yaml': cm };
    const pipeline = files.Kptfile.replace('set-annotations:v0.1.4\n', 'set-annotations:v0.1.4\n      configMap:\n        team: a\n');
    const out = await render({ ...files, Kptfile: pipeline }, { runtimes: [builtinRuntime(), runner] });
    expect(seen).toEqual(['gcr.io/kpt-fn/starlark:v0.5.0']);
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
    } finally {
      gone.close();
    }
  });
});
