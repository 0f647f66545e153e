import { afterAll, describe, expect, it } from 'vitest';
import { shellScripts } from '../support/shell-scripts.ts';
import { DraftRenderer } from '../../lib/engine/render-step.ts';
import { RenderStatusMemory } from '../../lib/engine/render-status.ts';
import { StatusError } from '../../lib/errors.ts';
import { builtinRuntime, execRuntime, functionRunnerRuntime } from '../../lib/render/index.ts';

// The engine's render step: what a draft write commits, and the Status a failed render answers with.

const scripts = shellScripts('porch-render-step-');
afterAll(() => scripts.remove());
const script = scripts.script;

const runtimes = [
  builtinRuntime(),
  execRuntime([
    { image: 'example.com/fail', exec: script('fail.sh', 'cat >/dev/null\necho "no quota" >&2\nexit 2'), args: [], timeoutMs: 10_000 },
    { image: 'example.com/slow', exec: script('slow.sh', 'sleep 5\ncat'), args: [], timeoutMs: 10_000 },
    { image: 'example.com/hang', exec: script('hang.sh', 'sleep 5\ncat'), args: [], timeoutMs: 200 },
  ]),
];
const kptfile = (fns: string) => `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\n${fns ? `pipeline:\n  mutators:\n${fns}` : ''}`;
const CM = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n';
const SET_NS = '    - image: gcr.io/kpt-fn/set-namespace:v0.4.1\n      configMap:\n        namespace: team\n';
const PREFIX = 'error rendering package in kpt function pipeline';

async function status(p: Promise<unknown>): Promise<StatusError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StatusError);
  return err as StatusError;
}

describe('DraftRenderer', () => {
  const renderer = new DraftRenderer({ runtimes });

  it('commits a package without functions exactly as given', async () => {
    const files = { Kptfile: kptfile(''), 'cm.yaml': CM, 'notes.yaml': 'not: [krm' };
    const out = await renderer.render('PackageRevisionResources', 'r', files, false);
    expect(out.files).toBe(files);
    expect(out.renderStatus).toEqual({ result: { apiVersion: 'kpt.dev/v1', kind: 'FunctionResultList', metadata: { name: 'fnresults' }, exitCode: 0, items: [] }, error: '' });
  });

  it('returns the rendered files and every function in the renderStatus', async () => {
    const out = await renderer.render('PackageRevisionResources', 'r', { Kptfile: kptfile(SET_NS), 'cm.yaml': CM }, false);
    expect(out.files['cm.yaml']).toBe('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: team\ndata:\n  a: b\n');
    expect(out.renderStatus.error).toBe('');
    expect(out.renderStatus.result.items.map((i) => [i.image, i.exitCode])).toEqual([['gcr.io/kpt-fn/set-namespace:v0.4.1', 0]]);
  });

  it('answers a failed function with 400 naming it and its error', async () => {
    const err = await status(renderer.render('PackageRevisionResources', 'r', { Kptfile: kptfile('    - image: example.com/fail:v1\n'), 'cm.yaml': CM }, false));
    expect(err.code).toBe(400);
    expect(err.reason).toBe('BadRequest');
    expect(err.message).toBe(`${PREFIX}: package ".": function "example.com/fail:v1" failed: exit code 2: no quota`);
  });

  it('answers a function past its own timeout with 400', async () => {
    const started = Date.now();
    const err = await status(renderer.render('PackageRevisionResources', 'r', { Kptfile: kptfile('    - image: example.com/hang:v1\n'), 'cm.yaml': CM }, false));
    // The script's own `sleep 5` holds its stdout open: the whole process group has to go at the timeout.
    expect(Date.now() - started).toBeLessThan(4500);
    expect(err.code).toBe(400);
    expect(err.message).toBe(`${PREFIX}: package ".": function "example.com/hang:v1" failed: timed out after 200ms`);
  });

  it('refuses a Kptfile exec:, an image nothing serves and non-KRM YAML with 422 and the field', async () => {
    const exec = await status(renderer.render('PackageRevision', 'p', { Kptfile: kptfile('    - exec: /bin/sh\n') }, false));
    expect(exec.toStatus()).toMatchObject({ code: 422, reason: 'Invalid', details: { name: 'p', kind: 'PackageRevision', causes: [{ field: 'spec.resources[Kptfile]' }] } });
    expect(exec.message).toBe(`${PREFIX}: Kptfile: pipeline.mutators[0].exec: exec functions are not allowed; use an image`);
    const unknown = await status(renderer.render('PackageRevision', 'p', { Kptfile: kptfile('    - image: example.com/nobody:v1\n') }, false));
    expect(unknown.code).toBe(422);
    expect(unknown.message).toMatch(new RegExp(`^${PREFIX}: function "example.com/nobody:v1" is not available: no runtime serves it \\(tried: built-in, executable\\)`));
    const notKrm = await status(renderer.render('PackageRevision', 'p', { Kptfile: kptfile(SET_NS), 'x.yaml': 'a: b\n' }, false));
    expect(notKrm.toStatus()).toMatchObject({ code: 422, details: { causes: [{ field: 'spec.resources' }] } });
  });

  it('with push on failure returns the input unrendered and the error in the renderStatus', async () => {
    const files = { Kptfile: kptfile(`${SET_NS}    - image: example.com/fail:v1\n`), 'cm.yaml': CM };
    const out = await renderer.render('PackageRevisionResources', 'r', files, true);
    expect(out.files).toBe(files);
    expect(out.renderStatus.error).toBe(`${PREFIX}: package ".": function "example.com/fail:v1" failed: exit code 2: no quota`);
    expect(out.renderStatus.result.items.map((i) => [i.image, i.exitCode])).toEqual([
      ['gcr.io/kpt-fn/set-namespace:v0.4.1', 0],
      ['example.com/fail:v1', 2],
    ]);
  });

  it('answers 503 when the function runner cannot be reached', async () => {
    const gone = functionRunnerRuntime({ address: '127.0.0.1:1', timeoutMs: 5000 });
    try {
      const err = await status(new DraftRenderer({ runtimes: [builtinRuntime(), gone] }).render('PackageRevisionResources', 'r', { Kptfile: kptfile('    - image: example.com/elsewhere:v1\n'), 'cm.yaml': CM }, false));
      expect(err.toStatus()).toMatchObject({ code: 503, reason: 'ServiceUnavailable', details: { retryAfterSeconds: 5 } });
      expect(err.message).toMatch(new RegExp(`^${PREFIX}: package "\\.": function "example.com/elsewhere:v1" failed: function runner at 127.0.0.1:1 is unavailable`));
    } finally {
      gone.close();
    }
  });

  it('stops a render past its budget with 503, even with push on failure', async () => {
    const short = new DraftRenderer({ runtimes, budgetMs: 300 });
    const err = await status(short.render('PackageRevisionResources', 'r', { Kptfile: kptfile('    - image: example.com/slow:v1\n'), 'cm.yaml': CM }, true));
    expect(err.code).toBe(503);
    expect(err.message).toBe('rendering the package needed more than 300 ms of server time and was stopped; make the input smaller');
  });
});

describe('RenderStatusMemory', () => {
  it('shows a renderStatus only at the commit it was made for', () => {
    const memory = new RenderStatusMemory();
    const status = { result: { apiVersion: 'kpt.dev/v1' as const, kind: 'FunctionResultList' as const, metadata: { name: 'fnresults' as const }, exitCode: 0, items: [] }, error: '' };
    memory.remember('ns', 'r', 'c1', status);
    expect(memory.recall('ns', 'r', 'c1')).toBe(status);
    expect(memory.recall('ns', 'r', 'c2')).toBeUndefined();
    expect(memory.recall('other', 'r', 'c1')).toBeUndefined();
  });
});
