import { execFile } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { startDevServer, type DevServer } from '../support/dev-server.ts';
import { e2eScope } from '../support/e2e-scope.ts';
import { kubectlAgainst } from '../support/kubectl-session.ts';
import { pipelineKptfile, type FunctionStep } from '../support/kpt-pipeline.ts';
import { repositoryYaml } from '../support/manifests.ts';
import { startFunctionRunnerStandIn, type FunctionRunnerStandIn } from '../support/function-runner-stand-in.ts';
import { porchRepo } from '../support/git-fixtures.ts';
import { startGitServer, type GitServer } from '../support/git-server.ts';

const run = promisify(execFile);

// Rendering end to end: kubectl against the dev server, a git http-backend, executables mapped by a
// --function-config file, and a stand-in for Porch's function runner (--function-runner). Every
// draft write renders the Kptfile pipeline before it is committed; a failed render writes nothing.

interface FnResult {
  image?: string;
  exitCode: number;
  stderr?: string;
}
interface PRR {
  metadata: { name: string; resourceVersion?: string; annotations?: Record<string, string> };
  spec: { resources: Record<string, string> };
  status?: { renderStatus?: { result?: { kind?: string; exitCode?: number; items?: FnResult[] }; error?: string } };
}

const PREFIX = 'error rendering package in kpt function pipeline';

const kptfile = (name: string, steps: FunctionStep[]) => pipelineKptfile(name, `${name} description`, steps);
const FAIL: FunctionStep = { image: 'example.com/fns/fail:v1' };
const SET_LABELS: FunctionStep = { image: 'gcr.io/kpt-fn/set-labels:v0.2.0', configMap: { app: 'web' } };

/** set-namespace (from package-context.yaml), set-labels and apply-setters: the blueprint's pipeline. */
const BLUEPRINT_FNS: FunctionStep[] = [{ image: 'gcr.io/kpt-fn/set-namespace:v0.4.1' }, SET_LABELS, { image: 'gcr.io/kpt-fn/apply-setters:v0.2.0', configMap: { replicas: '3' } }];

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web # the web tier
spec:
  replicas: 1 # kpt-set: \${replicas}
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.25
`;
const CM = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: red\n';

describe('rendering through kubectl', () => {
  const scope = e2eScope('porch-render-');
  let gitServer: GitServer;
  let server: DevServer;
  let runner: FunctionRunnerStandIn;
  const session = kubectlAgainst(() => server.kubeconfig);
  const { k, ok, publish } = session;
  const getPrr = async (name: string) => JSON.parse(await ok(['get', 'packagerevisionresources', name, '-o', 'json'])) as PRR;
  const create = (repo: string, pkg: string, ws: string, task: unknown, annotations?: Record<string, string>) =>
    ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevision', metadata: { namespace: 'default', annotations }, spec: { repository: repo, packageName: pkg, workspaceName: ws, tasks: [task] } }));
  const init = (repo: string, pkg: string, ws: string, annotations?: Record<string, string>) => create(repo, pkg, ws, { type: 'init', init: { description: `${pkg} description` } }, annotations);
  /** Every ref of the bare repository with the object it points at: what "nothing written" is checked against. */
  const refs = (repo: string) => run('git', ['for-each-ref', '--format=%(refname) %(objectname)'], { cwd: join(scope.dir, `${repo}.git`) }).then((r) => r.stdout);
  const withFiles = (prr: PRR, files: Record<string, string>): PRR => ({ ...prr, status: undefined, spec: { ...prr.spec, resources: { ...prr.spec.resources, ...files } } });
  const parse = (text: string | undefined) => YAML.parse(text ?? '') as { metadata: { namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: { replicas?: number }; data?: Record<string, string> };

  /** A failed write: the Status message, and the repository's refs as they were. */
  async function refused(repo: string, args: string[], input: string): Promise<string> {
    const before = await refs(repo);
    const r = await k(args, input);
    expect(r.code).not.toBe(0);
    expect(await refs(repo)).toBe(before);
    return r.stderr;
  }

  beforeAll(async () => {
    porchRepo(scope.dir, 'blueprints', []);
    porchRepo(scope.dir, 'deploy', []);
    const recolor = join(scope.dir, 'recolor.sh');
    await writeFile(recolor, '#!/bin/sh\nsed "s/color: red/color: blue/"\n');
    const fail = join(scope.dir, 'fail.sh');
    await writeFile(fail, '#!/bin/sh\ncat >/dev/null\necho "quota exceeded for team" >&2\nexit 3\n');
    await chmod(recolor, 0o755);
    await chmod(fail, 0o755);
    const config = join(scope.dir, 'functions.yaml');
    await writeFile(config, YAML.stringify({ functions: [{ image: 'example.com/fns/recolor', exec: recolor, timeout: '20s' }, { image: 'example.com/fns/fail:v1', exec: fail }] }));
    runner = scope.keep(await startFunctionRunnerStandIn());
    gitServer = scope.keep(await startGitServer({ root: scope.dir }));
    server = scope.keep(await startDevServer({ args: ['--sync-interval', '0', '--function-config', config, '--function-runner', runner.address] }));
    await ok(['apply', '-f', '-'], repositoryYaml({ name: 'blueprints', repo: `${gitServer.url}/blueprints.git` }));
    await ok(['apply', '-f', '-'], repositoryYaml({ name: 'deploy', repo: `${gitServer.url}/deploy.git`, deployment: true }));
    for (const repo of ['blueprints', 'deploy']) await session.repositoryReady(repo);
  });


  it('renders on kubectl apply of the resources and on clone; renderStatus lists every function', async () => {
    await init('blueprints', 'web', 'ws1');
    // init's Kptfile has no pipeline: nothing runs, and the (empty) renderStatus is there.
    const fresh = await getPrr('blueprints.web.ws1');
    expect(fresh.status?.renderStatus).toEqual({ result: { apiVersion: 'kpt.dev/v1', kind: 'FunctionResultList', metadata: { name: 'fnresults' }, exitCode: 0, items: [] }, error: '' });

    const applied = withFiles(fresh, { Kptfile: kptfile('web', BLUEPRINT_FNS), 'deployment.yaml': DEPLOYMENT, 'cm.yaml': CM });
    await ok(['apply', '-f', '-'], JSON.stringify(applied));
    const rendered = await getPrr('blueprints.web.ws1');
    const deployment = parse(rendered.spec.resources['deployment.yaml']);
    // set-namespace took package-context.yaml's name (init's placeholder), set-labels and apply-setters ran.
    expect(deployment.metadata.namespace).toBe('example');
    expect(deployment.metadata.labels).toEqual({ app: 'web' });
    expect(deployment.spec?.replicas).toBe(3);
    expect(rendered.spec.resources['deployment.yaml']).toContain('  name: web # the web tier\n');
    expect(rendered.spec.resources['deployment.yaml']).toContain('replicas: 3 # kpt-set: ${replicas}');
    expect(parse(rendered.spec.resources['cm.yaml']).metadata).toMatchObject({ namespace: 'example', labels: { app: 'web' } });
    expect(rendered.status?.renderStatus?.error).toBe('');
    expect(rendered.status?.renderStatus?.result?.items?.map((i) => [i.image, i.exitCode])).toEqual([
      ['gcr.io/kpt-fn/set-namespace:v0.4.1', 0],
      ['gcr.io/kpt-fn/set-labels:v0.2.0', 0],
      ['gcr.io/kpt-fn/apply-setters:v0.2.0', 0],
    ]);
    // What git holds is the rendered package: one "Rendering package" commit on the draft branch.
    const log = await run('git', ['log', '-1', '--format=%s', 'drafts/web/ws1'], { cwd: join(scope.dir, 'blueprints.git') });
    expect(log.stdout.trim()).toBe('Rendering package');
    const committed = await run('git', ['show', 'drafts/web/ws1:web/deployment.yaml'], { cwd: join(scope.dir, 'blueprints.git') });
    expect(committed.stdout).toBe(rendered.spec.resources['deployment.yaml']);

    await publish('blueprints.web.ws1');
    // A new revision by edit renders the published one again: the same files, every function listed.
    await create('blueprints', 'web', 'ws2', { type: 'edit', edit: { sourceRef: { name: 'blueprints.web.ws1' } } });
    const edited = await getPrr('blueprints.web.ws2');
    expect(edited.spec.resources).toEqual(rendered.spec.resources);
    expect(edited.status?.renderStatus?.result?.items).toHaveLength(3);
    // The clone into a deployment repository gets a package context naming it: set-namespace follows.
    await create('deploy', 'team-b', 'ws1', { type: 'clone', clone: { upstreamRef: { upstreamRef: { name: 'blueprints.web.ws1' } } } });
    const cloned = await getPrr('deploy.team-b.ws1');
    expect(parse(cloned.spec.resources['deployment.yaml']).metadata.namespace).toBe('team-b');
    expect(parse(cloned.spec.resources['cm.yaml']).metadata.namespace).toBe('team-b');
    expect(cloned.status?.renderStatus?.result?.items).toHaveLength(3);
    expect(cloned.status?.renderStatus?.error).toBe('');
  });

  it('runs an operator-mapped executable and a function-runner image, with their logs in the results', async () => {
    await init('blueprints', 'external', 'ws1');
    const prr = await getPrr('blueprints.external.ws1');
    const fns = [{ image: 'example.com/fns/recolor:v7' }, { image: 'example.com/fns/annotate:v1' }];
    const out = JSON.parse(await ok(['replace', '-o', 'json', '-f', '-'], JSON.stringify(withFiles(prr, { Kptfile: kptfile('external', fns), 'cm.yaml': CM })))) as PRR;
    // The update's own answer carries the renderStatus, as Porch's does.
    expect(out.status?.renderStatus?.result?.items?.map((i) => [i.image, i.exitCode, i.stderr])).toEqual([
      ['example.com/fns/recolor:v7', 0, undefined],
      ['example.com/fns/annotate:v1', 0, 'ran example.com/fns/annotate:v1\n'],
    ]);
    const cm = parse((await getPrr('blueprints.external.ws1')).spec.resources['cm.yaml']);
    expect(cm.data).toEqual({ color: 'blue' });
    expect(cm.metadata.annotations).toEqual({ 'ran-by': 'example.com/fns/annotate:v1' });
    expect(runner.seen).toContain('example.com/fns/annotate:v1');
    expect(runner.seen).not.toContain('example.com/fns/recolor:v7');
  });

  it('fails a write whose render fails and writes nothing: 400 naming the function and its error', async () => {
    await init('blueprints', 'failing', 'ws1');
    const prr = await getPrr('blueprints.failing.ws1');
    const failing = withFiles(prr, { Kptfile: kptfile('failing', [FAIL]), 'cm.yaml': CM });
    const stderr = await refused('blueprints', ['replace', '-f', '-'], JSON.stringify(failing));
    expect(stderr).toContain(`Error from server (BadRequest): error when replacing "STDIN": ${PREFIX}: package ".": function "example.com/fns/fail:v1" failed: exit code 3: quota exceeded for team`);
    expect((await getPrr('blueprints.failing.ws1')).spec.resources).toEqual(prr.spec.resources);

    // The function runner reporting a failed function pod.
    const broken = withFiles(prr, { Kptfile: kptfile('failing', [{ image: 'example.com/broken:v1' }]), 'cm.yaml': CM });
    expect(await refused('blueprints', ['replace', '-f', '-'], JSON.stringify(broken))).toContain(`${PREFIX}: package ".": function "example.com/broken:v1" failed: function pod exited with 1: broken on purpose`);

    // A clone of an upstream whose pipeline fails leaves no draft behind.
    const up = withFiles(prr, { Kptfile: kptfile('failing', [FAIL]), 'cm.yaml': CM });
    await ok(['annotate', 'packagerevision', 'blueprints.failing.ws1', 'porch.kpt.dev/push-on-render-failure=true']);
    await ok(['replace', '-f', '-'], JSON.stringify({ ...up, metadata: { ...up.metadata, resourceVersion: undefined } }));
    await publish('blueprints.failing.ws1');
    const clone = JSON.stringify({ apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevision', metadata: { namespace: 'default' }, spec: { repository: 'deploy', packageName: 'failing', workspaceName: 'ws1', tasks: [{ type: 'clone', clone: { upstreamRef: { upstreamRef: { name: 'blueprints.failing.ws1' } } } }] } });
    expect(await refused('deploy', ['create', '-f', '-'], clone)).toContain(`(BadRequest): error when creating "STDIN": ${PREFIX}: package ".": function "example.com/fns/fail:v1" failed`);
    expect((await k(['get', 'packagerevision', 'deploy.failing.ws1'])).code).not.toBe(0);
  });

  it("renders when an update writes readiness gates into a Draft's Kptfile; a failure there saves no metadata either", async () => {
    await init('blueprints', 'gates', 'ws1', { 'porch.kpt.dev/push-on-render-failure': 'true' });
    const prr = await getPrr('blueprints.gates.ws1');
    await ok(['replace', '-f', '-'], JSON.stringify(withFiles(prr, { Kptfile: kptfile('gates', [FAIL]), 'cm.yaml': CM })));
    await ok(['annotate', 'packagerevision', 'blueprints.gates.ws1', 'porch.kpt.dev/push-on-render-failure-']);
    const patch = JSON.stringify({ metadata: { labels: { team: 'a' } }, spec: { readinessGates: [{ conditionType: 'Ready' }] } });
    const stderr = await refused('blueprints', ['patch', 'packagerevision', 'blueprints.gates.ws1', '--type', 'merge', '-p', patch], '');
    expect(stderr).toContain(`(BadRequest): ${PREFIX}: package ".": function "example.com/fns/fail:v1" failed: exit code 3`);
    const pr = JSON.parse(await ok(['get', 'packagerevision', 'blueprints.gates.ws1', '-o', 'json'])) as { metadata: { labels?: Record<string, string> }; spec: { readinessGates?: unknown[] } };
    expect(pr.metadata.labels?.team).toBeUndefined();
    expect(pr.spec.readinessGates).toBeUndefined();

    // With a pipeline that passes, the same update commits the rendered package: the renderStatus
    // shown is the one of the commit that update made.
    const cur = await getPrr('blueprints.gates.ws1');
    await ok(['replace', '-f', '-'], JSON.stringify(withFiles(cur, { Kptfile: kptfile('gates', [SET_LABELS]) })));
    const before = await refs('blueprints');
    await ok(['patch', 'packagerevision', 'blueprints.gates.ws1', '--type', 'merge', '-p', patch]);
    expect(await refs('blueprints')).not.toBe(before);
    const after = await getPrr('blueprints.gates.ws1');
    expect(YAML.parse(after.spec.resources.Kptfile)).toMatchObject({ metadata: { labels: { app: 'web' } }, info: { readinessGates: [{ conditionType: 'Ready' }] } });
    expect(after.status?.renderStatus?.result?.items?.map((i) => i.image)).toEqual(['gcr.io/kpt-fn/set-labels:v0.2.0']);
  });

  it('refuses a Kptfile exec: function with 422 before anything runs, writing nothing', async () => {
    await init('blueprints', 'refused', 'ws1');
    const prr = await getPrr('blueprints.refused.ws1');
    const exec = withFiles(prr, { Kptfile: kptfile('refused', [{ exec: '/bin/sh' }]) });
    const stderr = await refused('blueprints', ['replace', '-f', '-'], JSON.stringify(exec));
    // kubectl prints an Invalid Status by its causes: the field, then the message.
    expect(stderr).toContain(`The PackageRevisionResources "blueprints.refused.ws1" is invalid: spec.resources[Kptfile]: ${PREFIX}: Kptfile: pipeline.mutators[0].exec: exec functions are not allowed; use an image`);
    expect((await getPrr('blueprints.refused.ws1')).spec.resources).toEqual(prr.spec.resources);
  });

  it('with push-on-render-failure saves the unrendered resources and reports the error in renderStatus', async () => {
    await init('blueprints', 'pushed', 'ws1', { 'porch.kpt.dev/push-on-render-failure': 'true' });
    const prr = await getPrr('blueprints.pushed.ws1');
    const files = { Kptfile: kptfile('pushed', [SET_LABELS, FAIL]), 'cm.yaml': CM };
    const before = await refs('blueprints');
    const out = JSON.parse(await ok(['replace', '-o', 'json', '-f', '-'], JSON.stringify(withFiles(prr, files)))) as PRR;
    expect(await refs('blueprints')).not.toBe(before);
    expect(out.status?.renderStatus?.error).toMatch(new RegExp(`^${PREFIX}: package "\\.": function "example.com/fns/fail:v1" failed: exit code 3`));
    expect(out.status?.renderStatus?.result?.items?.map((i) => [i.image, i.exitCode])).toEqual([
      ['gcr.io/kpt-fn/set-labels:v0.2.0', 0],
      ['example.com/fns/fail:v1', 3],
    ]);
    const saved = await getPrr('blueprints.pushed.ws1');
    // Unrendered: set-labels ran before the failure, but its change is not what was saved.
    expect(saved.spec.resources['cm.yaml']).toBe(CM);
    expect(saved.status?.renderStatus?.error).toBe(out.status?.renderStatus?.error);
  });
});
