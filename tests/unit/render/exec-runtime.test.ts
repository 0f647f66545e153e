import { afterAll, describe, expect, it } from 'vitest';
import { shellScripts } from '../../support/shell-scripts.ts';
import { Document } from 'yaml';
import { loadFunctionConfig, matchExec } from '../../../lib/render/function-config.ts';
import { RenderError } from '../../../lib/render/errors.ts';
import { render } from '../../../lib/render/render.ts';
import { FunctionFailure } from '../../../lib/render/runtime.ts';
import { execRuntime, runExec } from '../../../lib/render/runtimes/exec.ts';

// Operator-configured executables: the ResourceList on stdin, the result on stdout, stderr as the
// log; no shell, a clean environment, a timeout and a cap on output.

const scripts = shellScripts('porch-render-exec-');
afterAll(() => scripts.remove());
const script = scripts.script;

const item = new Document({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', annotations: { 'internal.config.kubernetes.io/path': 'x.yaml' } } });
const fn = (exec: string, timeoutMs = 5000) => ({ image: 'example.com/f', exec, args: [], timeoutMs });
const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as FunctionFailure,
  );

describe('exec runtime', () => {
  it('passes the ResourceList through stdin and reads stdout; stderr is the log', async () => {
    const out = await runExec(fn(script('cat.sh', 'echo "hello log" >&2\ncat')), { items: [item] });
    expect(out.items.map((d) => d.toJS())).toEqual([item.toJS()]);
    expect(out.log).toBe('hello log\n');
  });

  it('gives the function a clean environment', async () => {
    process.env.PORCH_SECRET_FOR_TEST = 'leak';
    const out = await failure(runExec(fn(script('env.sh', 'env >&2\nexit 3')), { items: [] }));
    delete process.env.PORCH_SECRET_FOR_TEST;
    expect(out.exitCode).toBe(3);
    expect(out.log).not.toContain('PORCH_SECRET_FOR_TEST');
    expect(out.log).toContain('PATH=');
  });

  it('passes arguments without a shell', async () => {
    const out = await failure(runExec({ ...fn(script('args.sh', 'echo "[$1]" >&2\nexit 1')), args: ['a b; rm -rf /'] }, { items: [] }));
    expect(out.log).toBe('[a b; rm -rf /]\n');
  });

  it('fails on a non-zero exit with the results and stderr', async () => {
    const p = script('fail.sh', 'cat >/dev/null\necho boom >&2\nprintf "apiVersion: config.kubernetes.io/v1\\nkind: ResourceList\\nitems: []\\nresults:\\n- message: bad\\n  severity: error\\n"\nexit 2');
    const err = await failure(runExec(fn(p), { items: [item] }));
    expect(err).toBeInstanceOf(FunctionFailure);
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe('exit code 2: boom');
    expect(err.results).toEqual([{ message: 'bad', severity: 'error' }]);
    expect(err.log).toBe('boom\n');
  });

  it('kills a function at its timeout', async () => {
    const t = Date.now();
    const err = await failure(runExec(fn(script('sleep.sh', 'exec sleep 10'), 300), { items: [] }));
    expect(err.message).toBe('timed out after 300ms');
    expect(Date.now() - t).toBeLessThan(3000);
  });

  it('stops a function whose output is too large', async () => {
    const err = await failure(runExec(fn(script('big.sh', 'exec head -c 2000000 /dev/zero')), { items: [] }, { maxOutputBytes: 100_000 }));
    expect(err.message).toBe('output exceeds 100000 bytes');
  });

  it('fails when the output is not a ResourceList', async () => {
    const err = await failure(runExec(fn(script('junk.sh', 'cat >/dev/null\necho "kind: Nope"')), { items: [] }));
    expect(err.message).toBe('function output is not a ResourceList');
  });

  it('a render names the failed function, its error and its log', async () => {
    const files = { Kptfile: 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\npipeline:\n  mutators:\n    - image: example.com/f:v2\n', 'a.yaml': item.toString() };
    const err = (await render(files, { runtimes: [execRuntime([fn(script('slow.sh', 'exec sleep 5'), 200)])] }).catch((e: unknown) => e)) as RenderError;
    expect(err).toBeInstanceOf(RenderError);
    expect(err.message).toBe('error rendering package in kpt function pipeline: package ".": function "example.com/f:v2" failed: timed out after 200ms');
    expect(err.results?.items).toEqual([{ image: 'example.com/f:v2', exitCode: 1 }]);
  });
});

describe('function config', () => {
  it('reads images, programs, arguments and timeouts', () => {
    const fns = loadFunctionConfig('functions:\n  - image: gcr.io/kpt-fn/starlark\n    exec: /usr/local/bin/starlark\n  - image: example.com/x:v1\n    exec: /bin/x\n    args: [--fast]\n    timeout: 1m30s\n');
    expect(fns).toEqual([
      { image: 'gcr.io/kpt-fn/starlark', exec: '/usr/local/bin/starlark', args: [], timeoutMs: 30_000 },
      { image: 'example.com/x:v1', exec: '/bin/x', args: ['--fast'], timeoutMs: 90_000 },
    ]);
    expect(matchExec(fns, 'gcr.io/kpt-fn/starlark:v0.5.0')?.exec).toBe('/usr/local/bin/starlark');
    expect(matchExec(fns, 'example.com/x:v1')?.exec).toBe('/bin/x');
    expect(matchExec(fns, 'example.com/x:v2')).toBeUndefined();
  });

  it('refuses a config with problems, naming each', () => {
    expect(() => loadFunctionConfig('functions:\n  - image: a\n    exec: relative/x\n    timeout: soon\n  - exec: /bin/y\n')).toThrow(
      'function config: functions[0].exec: must be an absolute path; functions[0].timeout: must be a duration such as 30s; functions[1].image: required',
    );
  });
});

describe('pipeline validation', () => {
  it("refuses a Kptfile's own exec before running anything", async () => {
    const files = { Kptfile: 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\n', 'sub/Kptfile': 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: s\npipeline:\n  validators:\n    - exec: /bin/rm\n' };
    const err = (await render(files, { runtimes: [] }).catch((e: unknown) => e)) as RenderError;
    expect(err.reason).toBe('invalid-pipeline');
    expect(err.message).toBe('error rendering package in kpt function pipeline: sub/Kptfile: pipeline.validators[0].exec: exec functions are not allowed; use an image');
  });

  it('fails on an image no runtime serves, naming the runtimes tried', async () => {
    const files = { Kptfile: 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\npipeline:\n  mutators:\n    - image: example.com/unknown:v1\n' };
    const err = (await render(files, { runtimes: [execRuntime([])] }).catch((e: unknown) => e)) as RenderError;
    expect(err.reason).toBe('unknown-function');
    expect(err.message).toBe('error rendering package in kpt function pipeline: function "example.com/unknown:v1" is not available: no runtime serves it (tried: executable)');
  });
});
