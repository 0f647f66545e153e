import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { copyFile, cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { get as httpsGet } from 'node:https';
import { isBuiltin } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APIService } from 'kubernetes-models/apiregistration.k8s.io/v1';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ClusterRole, ClusterRoleBinding, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { loadFunctionConfig } from '../../lib/render/function-config.ts';
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crdResources } from '../../lib/api/crd.ts';
import { RESOURCES } from '../../lib/api/resources.ts';
import { createBareRepo } from '../support/git-fixtures.ts';
import { kubectl, startDevServer, type DevServer } from '../support/dev-server.ts';
import { filesUnder, obj, yamlObjects, type Obj } from '../support/yaml-objects.ts';

// The deployment manifests in infra/ and the container build, checked with the real tools where they
// can run here: kubectl parses and maps every manifest, kustomize renders the kustomization, the
// Kubernetes API schema (kubernetes-models) validates each object, the dev server takes the example
// objects and serves the CRD printer columns, and the Dockerfile's steps (tsc build, production-only
// npm install, node entrypoint) run outside a container engine, which this machine does not have.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const INFRA = join(ROOT, 'infra');
const CONFIG = 'config.porch.kpt.dev';

const yamlFiles = (dir: string) => filesUnder(dir, (name) => /\.ya?ml$/.test(name));

const groupOf = (o: Obj) => (String(o.apiVersion).includes('/') ? String(o.apiVersion).split('/')[0] : '');
const nameOf = (o: Obj) => String(obj(o.metadata).name);
/** How kubectl names an object in its output: deployment.apps/porch-ts-server. */
const kubectlRef = (o: Obj) => `${String(o.kind).toLowerCase()}${groupOf(o) ? `.${groupOf(o)}` : ''}/${nameOf(o)}`;

const KUSTOMIZATION = join(INFRA, 'kustomization.yaml');
/** Every manifest in infra/, the examples included; kustomization.yaml is kustomize's, not an object. */
const MANIFEST_FILES = yamlFiles(INFRA).filter((f) => f !== KUSTOMIZATION);
const DEPLOY_FILES = MANIFEST_FILES.filter((f) => !f.startsWith(join(INFRA, 'examples')));
const objectsIn = (files: string[]) => files.flatMap((f) => yamlObjects(readFileSync(f, 'utf8'), relative(ROOT, f)));

// ---- a stand-in for kube-apiserver's discovery ----

interface ApiResource {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

// kubectl maps every manifest to a REST path through the server's discovery, even for a client-side
// dry run. The dev server serves only the Porch groups (and namespaces/secrets), and no real
// kube-apiserver can run here, so this MOCK serves the discovery documents of the built-in kinds the
// manifests use (as kube-apiserver 1.32 names them) plus the kinds of the generated CRDs, read from
// infra/crds as kube-apiserver would serve them once installed. Every other request is a NotFound
// Status, which is what kubectl expects for objects that do not exist yet.
/** Kinds of one group/version, each namespaced or not; kube-apiserver's plural of each is its kind, lower case, plus "s". */
const kinds = (group: string, version: string, namespaced: Record<string, boolean>): ApiResource[] =>
  Object.entries(namespaced).map(([kind, ns]) => ({ group, version, plural: `${kind.toLowerCase()}s`, kind, namespaced: ns }));
const BUILTIN: ApiResource[] = [
  ...kinds('', 'v1', { Namespace: false, ServiceAccount: true, Service: true, Secret: true, ConfigMap: true }),
  ...kinds('apps', 'v1', { Deployment: true }),
  ...kinds('rbac.authorization.k8s.io', 'v1', { ClusterRole: false, ClusterRoleBinding: false, Role: true, RoleBinding: true }),
  ...kinds('apiextensions.k8s.io', 'v1', { CustomResourceDefinition: false }),
  ...kinds('apiregistration.k8s.io', 'v1', { APIService: false }),
];

function crdApiResources(): ApiResource[] {
  return objectsIn(yamlFiles(join(INFRA, 'crds'))).map((crd) => {
    const spec = obj(crd.spec);
    const version = (spec.versions as Obj[]).find((v) => v.served === true && v.storage === true)!;
    return { group: String(spec.group), version: String(version.name), plural: String(obj(spec.names).plural), kind: String(obj(spec.names).kind), namespaced: spec.scope === 'Namespaced' };
  });
}

interface DiscoveryStandIn {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

async function startDiscoveryStandIn(resources: ApiResource[]): Promise<DiscoveryStandIn> {
  const requests: string[] = [];
  const verbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
  const list = (group: string, version: string) => ({
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: resources.filter((r) => r.group === group && r.version === version).map((r) => ({ name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs })),
  });
  const groups = [...new Set(resources.filter((r) => r.group).map((r) => `${r.group}/${r.version}`))].map((gv) => {
    const [name, version] = gv.split('/');
    return { name, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } };
  });
  const send = (res: ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(`${req.method} ${path}`);
    req.resume();
    if (req.method === 'GET' && path === '/version') return send(res, 200, { major: '1', minor: '32', gitVersion: 'v1.32.0' });
    if (req.method === 'GET' && path === '/api') return send(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (req.method === 'GET' && path === '/api/v1') return send(res, 200, list('', 'v1'));
    if (req.method === 'GET' && path === '/apis') return send(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
    const gv = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && gv && groups.some((g) => g.name === gv[1])) return send(res, 200, list(gv[1], gv[2]));
    return send(res, 404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', code: 404, message: `${path} not found` });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

function kubeconfigFor(url: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'stand-in', cluster: { server: url } }],
    users: [{ name: 'nobody', user: {} }],
    contexts: [{ name: 'stand-in', context: { cluster: 'stand-in', user: 'nobody', namespace: 'default' } }],
    'current-context': 'stand-in',
  });
}

/** The REST path kube-apiserver serves an object at, given its kind's discovery entry. */
function restPath(o: Obj, resources: ApiResource[]): string {
  const [group, version] = String(o.apiVersion).includes('/') ? String(o.apiVersion).split('/') : ['', String(o.apiVersion)];
  const r = resources.find((x) => x.group === group && x.version === version && x.kind === o.kind);
  if (!r) throw new Error(`no discovery entry for ${String(o.apiVersion)} ${String(o.kind)}`);
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const ns = r.namespaced ? `/namespaces/${String(obj(o.metadata).namespace ?? 'default')}` : '';
  return `${base}${ns}/${r.plural}/${nameOf(o)}`;
}

describe('infra/ manifests', () => {
  let standIn: DiscoveryStandIn;
  let dir: string;
  let kubeconfig: string;
  const resources = [...BUILTIN, ...crdApiResources()];

  beforeAll(async () => {
    standIn = await startDiscoveryStandIn(resources);
    dir = await mkdtemp(join(tmpdir(), 'porch-infra-'));
    kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, kubeconfigFor(standIn.url));
  });
  afterAll(async () => {
    await standIn?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const dryRunClient = (args: string[]) =>
    kubectl(['apply', '--dry-run=client', '--validate=false', '--cache-dir', join(dir, 'cache'), ...args], { kubeconfig, timeoutMs: 120_000 });

  it('kubectl apply --dry-run=client takes every manifest in infra/, examples included', async () => {
    // Client-side schema validation needs the server's OpenAPI documents, which the stand-in cannot
    // have (--validate=false); the Kubernetes API schema check is done below with kubernetes-models.
    // kustomization.yaml is left out: it is kustomize's input, not an object kubectl could apply.
    const r = await dryRunClient(MANIFEST_FILES.flatMap((f) => ['-f', f]));
    expect(r.code, r.stderr).toBe(0);
    const objects = objectsIn(MANIFEST_FILES);
    expect(objects.length).toBeGreaterThanOrEqual(20);
    const lines = r.stdout.trim().split('\n').sort();
    expect(lines).toEqual(objects.map((o) => `${kubectlRef(o)} created (dry run)`).sort());
    // kubectl looked each object up where kube-apiserver serves it, so every kind mapped.
    for (const o of objects) expect(standIn.requests).toContain(`GET ${restPath(o, resources)}`);
  });

  it('kubectl apply --dry-run=client -k renders the kustomization: every deploy manifest, nothing else', async () => {
    const r = await dryRunClient(['-k', INFRA]);
    expect(r.code, r.stderr).toBe(0);
    const deploy = objectsIn(DEPLOY_FILES);
    expect(r.stdout.trim().split('\n').sort()).toEqual(deploy.map((o) => `${kubectlRef(o)} created (dry run)`).sort());
    const rendered = await kubectl(['kustomize', INFRA], { kubeconfig });
    expect(rendered.code, rendered.stderr).toBe(0);
    const objects = yamlObjects(rendered.stdout, 'kubectl kustomize');
    expect(objects.map(kubectlRef).sort()).toEqual(deploy.map(kubectlRef).sort());
    // The image is set in one place, the kustomization.
    const deployment = objects.find((o) => o.kind === 'Deployment')!;
    expect(obj(obj(obj(deployment.spec).template).spec).containers).toMatchObject([{ image: 'porch-ts:latest' }]);
  });

  it('every object is valid by the Kubernetes API schema', () => {
    const models: Record<string, new (data: never) => { validate(): void }> = {
      'v1/ConfigMap': ConfigMap,
      'v1/Namespace': Namespace,
      'v1/ServiceAccount': ServiceAccount,
      'v1/Service': Service,
      'v1/Secret': Secret,
      'apps/v1/Deployment': Deployment,
      'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
      'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
      'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
      'apiextensions.k8s.io/v1/CustomResourceDefinition': CustomResourceDefinition,
      'apiregistration.k8s.io/v1/APIService': APIService,
    };
    let checked = 0;
    for (const o of objectsIn(MANIFEST_FILES)) {
      if (String(o.apiVersion).startsWith(`${CONFIG}/`)) continue; // the CRD schemas: tests/unit/crd.test.ts
      const Model = models[`${String(o.apiVersion)}/${String(o.kind)}`];
      expect(Model, `${String(o.apiVersion)} ${String(o.kind)}`).toBeDefined();
      expect(() => new Model(o as never).validate(), kubectlRef(o)).not.toThrow();
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(16);
    // The schema check can fail: a port given as a name where a number is required.
    const bad = objectsIn([join(INFRA, 'deployment.yaml')])[0];
    const container = (obj(obj(obj(bad.spec).template).spec).containers as Obj[])[0];
    (container.ports as Obj[])[0].containerPort = 'https';
    expect(() => new Deployment(bad as never).validate()).toThrow(/containerPort must be integer/);
  });

  it('grants the server what it needs and users what their roles say', () => {
    const objects = objectsIn(DEPLOY_FILES);
    const role = (name: string) => objects.find((o) => o.kind === 'ClusterRole' && nameOf(o) === name)!;
    const rules = (name: string) => role(name).rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    const allows = (name: string, group: string, resource: string, verb: string) =>
      rules(name).some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));

    for (const res of crdResources()) {
      for (const verb of ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']) expect(allows('porch-ts-server', CONFIG, res.plural, verb), `${res.plural} ${verb}`).toBe(true);
      for (const verb of ['get', 'update', 'patch']) expect(allows('porch-ts-server', CONFIG, `${res.plural}/status`, verb)).toBe(true);
    }
    for (const verb of ['get', 'list', 'watch']) expect(allows('porch-ts-server', '', 'secrets', verb)).toBe(true);
    expect(allows('porch-ts-server', '', 'secrets', 'create')).toBe(false);
    expect(allows('porch-ts-server', '', 'namespaces', 'get')).toBe(true);
    expect(allows('porch-ts-server', '', 'events', 'create')).toBe(true);
    expect(allows('porch-ts-server', 'authentication.k8s.io', 'tokenreviews', 'create')).toBe(true);
    expect(allows('porch-ts-server', 'authorization.k8s.io', 'subjectaccessreviews', 'create')).toBe(true);

    const bindings = objects.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding');
    const boundTo = (kind: string, name: string) =>
      bindings.find((b) => obj(b.roleRef).kind === kind && obj(b.roleRef).name === name && (b.subjects as Obj[]).some((s) => s.kind === 'ServiceAccount' && s.name === 'porch-ts-server' && s.namespace === 'porch-system'));
    expect(boundTo('ClusterRole', 'porch-ts-server')).toBeDefined();
    expect(boundTo('ClusterRole', 'system:auth-delegator')).toBeDefined();
    expect(obj(boundTo('Role', 'extension-apiserver-authentication-reader')?.metadata).namespace).toBe('kube-system');

    // Authors may do everything the server supports on the Porch kinds except approve.
    for (const plural of ['packagerevisions', 'packagerevisionresources', 'packages']) {
      const res = RESOURCES.find((r) => r.group === 'porch.kpt.dev' && r.plural === plural)!;
      for (const verb of res.verbs) expect(allows('porch-author', 'porch.kpt.dev', plural, verb), `${plural} ${verb}`).toBe(true);
      for (const verb of res.verbs) expect(allows('porch-approver', 'porch.kpt.dev', plural, verb)).toBe(true);
    }
    expect(rules('porch-author').some((r) => r.resources.includes('packagerevisions/approval'))).toBe(false);
    expect(allows('porch-approver', 'porch.kpt.dev', 'packagerevisions/approval', 'update')).toBe(true);
    expect(obj(role('porch-author').metadata).labels).toMatchObject({ 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' });
    expect(obj(role('porch-approver').metadata).labels).toMatchObject({ 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' });
    expect(obj(role('porch-approver').metadata).labels).not.toHaveProperty(['rbac.authorization.k8s.io/aggregate-to-edit']);
  });

  it('wires the Deployment, Service and APIService together', () => {
    const objects = objectsIn(DEPLOY_FILES);
    const find = (kind: string) => objects.find((o) => o.kind === kind)!;
    const deployment = find('Deployment');
    const pod = obj(obj(obj(deployment.spec).template).spec);
    const [container] = pod.containers as Obj[];
    const args = container.args as string[];
    const arg = (flag: string) => args.find((a) => a.startsWith(`--${flag}=`))?.split('=')[1];
    expect(arg('mode')).toBe('cluster');
    expect(pod.serviceAccountName).toBe('porch-ts-server');
    // In-cluster config reads the service account token; cluster mode delegates authentication.
    expect(pod.automountServiceAccountToken).not.toBe(false);
    expect(args.some((a) => /^--(no-delegated-auth|delegated-auth=false|authentication-skip-lookup)/.test(a))).toBe(false);

    // Probes over HTTPS on the port the server listens on.
    const ports = container.ports as Obj[];
    expect(ports).toEqual([{ name: 'https', containerPort: Number(arg('port')), protocol: 'TCP' }]);
    for (const [probe, path] of [['readinessProbe', '/readyz'], ['livenessProbe', '/livez']] as const)
      expect(obj(container[probe]).httpGet).toEqual({ path, port: 'https', scheme: 'HTTPS' });

    // TLS files come from the serving Secret's volume.
    const mounts = container.volumeMounts as Obj[];
    const volumes = pod.volumes as Obj[];
    const fileFrom = (path: string | undefined) => {
      const m = mounts.find((x) => path?.startsWith(`${String(x.mountPath)}/`))!;
      return volumes.find((v) => v.name === m.name)!;
    };
    expect(obj(fileFrom(arg('tls-cert')).secret).secretName).toBe('porch-ts-serving-cert');
    expect(obj(fileFrom(arg('tls-key')).secret).secretName).toBe('porch-ts-serving-cert');
    expect(arg('tls-cert')?.endsWith('/tls.crt') && arg('tls-key')?.endsWith('/tls.key')).toBe(true);
    expect(mounts.some((m) => m.mountPath === arg('data-dir'))).toBe(true);

    // Not root, nothing writable but the mounted volumes.
    expect(obj(pod.securityContext)).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    expect(obj(container.securityContext)).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(obj(obj(container.resources).requests)).toHaveProperty('memory');

    // Service 443 → the container port, selecting the pods.
    const service = find('Service');
    expect(obj(service.metadata).namespace).toBe('porch-system');
    expect(obj(service.spec).ports).toEqual([{ name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' }]);
    expect(obj(obj(deployment.spec).template).metadata).toMatchObject({ labels: obj(service.spec).selector });

    // The APIService points at that Service and verifies its certificate.
    const apiservice = find('APIService');
    expect(nameOf(apiservice)).toBe('v1alpha1.porch.kpt.dev');
    expect(obj(apiservice.spec)).toMatchObject({
      group: 'porch.kpt.dev',
      version: 'v1alpha1',
      insecureSkipTLSVerify: false,
      service: { name: nameOf(service), namespace: 'porch-system', port: 443 },
    });
  });

  it('mounts a function config the server loads at the path its --function-config names', () => {
    const objects = objectsIn(DEPLOY_FILES);
    const deployment = objects.find((o) => o.kind === 'Deployment')!;
    const pod = obj(obj(obj(deployment.spec).template).spec);
    const [container] = pod.containers as Obj[];
    const path = (container.args as string[]).find((a) => a.startsWith('--function-config='))?.split('=')[1] ?? '';
    const mount = (container.volumeMounts as Obj[]).find((m) => path.startsWith(`${String(m.mountPath)}/`))!;
    const volume = (pod.volumes as Obj[]).find((v) => v.name === mount.name)!;
    const configMap = objects.find((o) => o.kind === 'ConfigMap' && nameOf(o) === obj(volume.configMap).name)!;
    const text = obj(configMap.data)[path.slice(String(mount.mountPath).length + 1)];
    expect(typeof text).toBe('string');
    expect(loadFunctionConfig(text as string)).toEqual([]);
  });

  it('passes the server only flags gateway/main.ts accepts', () => {
    // The option names of the server's parseArgs call (gateway/config.ts), read from its source.
    const main = readFileSync(join(ROOT, 'gateway', 'config.ts'), 'utf8');
    const options = /parseArgs\(\{[\s\S]*?options: \{([\s\S]*?)\n\s*\},/.exec(main)?.[1] ?? '';
    const known = new Set([...options.matchAll(/^\s+'?([a-z][a-z-]*)'?: \{ type:/gm)].map((m) => m[1]));
    expect(known.has('tls-cert') && known.has('port')).toBe(true);
    const deployment = objectsIn([join(INFRA, 'deployment.yaml')])[0];
    const args = (obj(obj(obj(deployment.spec).template).spec).containers as Obj[])[0].args as string[];
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
    for (const a of [...args, ...(JSON.parse(cmd ?? '[]') as string[])]) {
      const flag = /^--([a-z-]+)/.exec(a)?.[1];
      expect(flag, a).toBeDefined();
      expect(known.has(flag!), `gateway/main.ts does not accept --${flag} (used by infra/deployment.yaml or the Dockerfile)`).toBe(true);
    }
  });
});

describe('infra/ against the dev server', () => {
  let server: DevServer;
  let dir: string;
  const k = (args: string[], input?: string) => kubectl(args, { kubeconfig: server.kubeconfig, input, timeoutMs: 120_000 });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'porch-infra-dev-'));
    server = await startDevServer({ args: ['--sync-interval', '0'] });
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('accepts the examples (server-side dry run, strict field validation)', async () => {
    const examples = objectsIn(yamlFiles(join(INFRA, 'examples')));
    const r = await k(['apply', '--dry-run=server', '--validate=strict', '-f', join(INFRA, 'examples')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual(examples.map((o) => `${kubectlRef(o)} created (server dry run)`).sort());
    expect(r.stderr).not.toMatch(/unknown field/i);
    // Nothing was stored.
    expect((await k(['get', 'repositories', '-o', 'name'])).stdout).toBe('');
  });

  it('CRD printer columns show what the server table shows', async () => {
    // The example Repositories, pointed at local bare repositories so that they sync (no network).
    const repos = objectsIn(yamlFiles(join(INFRA, 'examples'))).filter((o) => o.kind === 'Repository' || o.kind === 'Secret');
    for (const o of repos) {
      if (o.kind !== 'Repository') continue;
      const git = obj(obj(o.spec).git);
      git.repo = createBareRepo(join(dir, `${nameOf(o)}.git`), String(git.branch ?? 'main'));
      delete git.directory;
    }
    const applied = await k(['apply', '-f', '-'], repos.map((o) => JSON.stringify(o)).join('\n'));
    expect(applied.code, applied.stderr).toBe(0);

    const crd = objectsIn([join(INFRA, 'crds', `${CONFIG}_repositories.yaml`)])[0];
    const columns = ((obj(crd.spec).versions as Obj[])[0].additionalPrinterColumns as Obj[]).filter((c) => c.name !== 'Age');
    const names = repos.filter((o) => o.kind === 'Repository').map(nameOf).sort();

    // The server's table, once both repositories have synced.
    let table: { columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] } | undefined;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await fetch(`${server.url}/apis/${CONFIG}/v1alpha1/namespaces/default/repositories`, { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
      expect(res.status).toBe(200);
      table = (await res.json()) as typeof table;
      const ready = table!.columnDefinitions.findIndex((c) => c.name === 'Ready');
      if (table!.rows.length === names.length && table!.rows.every((row) => row.cells[ready] !== '')) break;
      if (Date.now() > deadline) throw new Error(`repositories did not sync: ${JSON.stringify(table)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const header = table!.columnDefinitions.map((c) => c.name);
    for (const col of columns) {
      // kubectl evaluates the CRD's JSONPath with the same jsonpath package kube-apiserver uses for columns.
      const tpl = `{range .items[*]}{.metadata.name}{"\\t"}{${String(col.jsonPath)}}{"\\n"}{end}`;
      const r = await k(['get', 'repositories', '-o', `jsonpath=${tpl}`]);
      expect(r.code, `${String(col.jsonPath)}: ${r.stderr}`).toBe(0);
      const byCrd = new Map(r.stdout.trim().split('\n').map((line) => line.split('\t') as [string, string]));
      const at = header.indexOf(String(col.name));
      expect(at, String(col.name)).toBeGreaterThan(0);
      for (const row of table!.rows) {
        const name = String(row.cells[0]);
        expect(byCrd.get(name) ?? '', `${name} ${String(col.name)}`).toBe(String(row.cells[at]));
      }
      // The two examples between them fill every column, so no comparison above is of blanks only.
      expect(table!.rows.some((row) => row.cells[at] !== ''), `${String(col.name)} is empty in every row`).toBe(true);
    }
    expect(header).toEqual(['Name', ...columns.map((c) => String(c.name)), 'Age']);
  });
});

// ---- the container image's build and runtime, without a container engine ----

function run(cmd: string, args: string[], cwd: string, timeoutMs = 300_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => resolve({ code: -1, out: `${out}\n${err.message}` }));
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out });
    });
  });
}

const sourceFiles = (dir: string) => filesUnder(dir, (name) => name.endsWith('.ts'));

/** Packages a source file loads at run time (type-only imports are erased by the compiler). */
function runtimePackages(source: string): string[] {
  const specifiers = [
    ...source.matchAll(/^\s*import\s+(?!type\b)[^'"]*?\bfrom\s+['"]([^'"]+)['"]/gm),
    ...source.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
    ...source.matchAll(/^\s*export\s+(?!type\b)[^'"]*?\bfrom\s+['"]([^'"]+)['"]/gm),
    ...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]);
  return specifiers
    .filter((s) => !s.startsWith('.') && !s.startsWith('/') && !isBuiltin(s))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]));
}

const SERVICE_DNS = 'porch-ts.porch-system.svc';

/** A CA and a serving certificate for the porch-ts Service, with the openssl commands README shows. */
async function makeServingCertificate(dir: string): Promise<{ code: number; out: string }> {
  await writeFile(join(dir, 'san.ext'), `subjectAltName=DNS:${SERVICE_DNS},DNS:${SERVICE_DNS}.cluster.local\nextendedKeyUsage=serverAuth\n`);
  const steps = [
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '365', '-subj', '/CN=porch-ts-ca', '-keyout', 'ca.key', '-out', 'ca.crt'],
    ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${SERVICE_DNS}`, '-keyout', 'tls.key', '-out', 'tls.csr'],
    ['x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '365', '-extfile', 'san.ext', '-out', 'tls.crt'],
  ];
  let out = '';
  for (const step of steps) {
    const r = await run('openssl', step, dir, 60_000);
    out += r.out;
    if (r.code !== 0) return { code: r.code, out };
  }
  return { code: 0, out };
}

/** GET over HTTPS, trusting only `ca` and checking the certificate names `servername`. */
function httpsStatus(url: URL, ca: string, servername: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsGet({ host: url.hostname, port: url.port, path: url.pathname, ca, servername }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
  });
}

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

  it('builds in one stage, installs production dependencies only in another, and runs as non-root on Node 20', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20[-\w.]*$/m);
    expect(dockerfile.match(/^FROM \$\{NODE_IMAGE\}/gm)).toHaveLength(3);
    expect(dockerfile).toMatch(/^RUN npm ci --ignore-scripts/m);
    expect(dockerfile).toMatch(/^RUN npx tsc -p tsconfig\.build\.json$/m);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev /m);
    // Dependency install scripts stay off, and our patches to dependencies are applied all the same.
    expect(dockerfile).toMatch(/^COPY patches \.\/patches$/m);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev --ignore-scripts [^\n]*&& npx --no-install patch-package --error-on-fail /m);
    expect(dockerfile).toMatch(/^COPY --from=deps \/app\/node_modules/m);
    expect(dockerfile).toMatch(/^USER 65532:65532$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "dist\/gateway\/main\.js"\]$/m);
  });

  it('every package the server imports at run time is a production dependency', () => {
    const used = new Map<string, string>();
    for (const dir of ['gateway', 'handlers', 'lib'])
      for (const file of sourceFiles(join(ROOT, dir))) for (const p of runtimePackages(readFileSync(file, 'utf8'))) used.set(p, relative(ROOT, file));
    // The scan sees the server's main libraries, so it is reading the imports.
    for (const p of ['hono', 'valibot', 'isomorphic-git', 'yaml']) expect(used.has(p), p).toBe(true);
    for (const [p, file] of used) expect(pkg.dependencies, `${p} (imported by ${file}) must be in dependencies`).toHaveProperty([p]);
    expect(runtimePackages("import type { A } from 'only-types';\nimport { b } from '@scope/pkg/sub';\nconst m = await import('dyn');\n")).toEqual(['@scope/pkg', 'dyn']);
  });

  describe('the build and runtime stages, run here', () => {
    let dir: string;
    let server: ChildProcess | undefined;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'porch-image-'));
    });
    afterAll(async () => {
      if (server?.pid !== undefined && server.exitCode === null) server.kill('SIGKILL');
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('compiles with tsc, installs with npm ci --omit=dev and serves HTTPS from node dist/gateway/main.js', async () => {
      // The stages are independent, as they are in the Dockerfile: build, install and the certificate
      // run side by side (the install mostly waits on the disk, the build on the CPU).
      // Build stage: the same tsc invocation (the project's own devDependencies stand in for `npm ci`).
      const building = run(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json', '--outDir', join(dir, 'dist')], ROOT);
      // Dependency stage: production dependencies only, from the lock file (from npm's cache where it can),
      // then our patches to them.
      const installing = Promise.all([
        copyFile(join(ROOT, 'package.json'), join(dir, 'package.json')),
        copyFile(join(ROOT, 'package-lock.json'), join(dir, 'package-lock.json')),
        cp(join(ROOT, 'patches'), join(dir, 'patches'), { recursive: true }),
      ])
        .then(async () => {
          const ci = await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], dir);
          if (ci.code !== 0) return ci;
          const patching = await run('npx', ['--no-install', 'patch-package', '--error-on-fail'], dir);
          return { code: patching.code, out: `${ci.out}\n${patching.out}` };
        });
      const certifying = makeServingCertificate(dir);
      const [build, install, certs] = await Promise.all([building, installing, certifying]);

      expect(build.code, build.out).toBe(0);
      expect(statSync(join(dir, 'dist', 'gateway', 'main.js')).isFile()).toBe(true);
      expect(readFileSync(join(dir, 'dist', 'gateway', 'main.js'), 'utf8')).not.toMatch(/from '\.[^']*\.ts'/);

      expect(install.code, install.out).toBe(0);
      // npm marks what only development needs in the lock file; none of that may be installed.
      const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
      const devOnly = Object.entries(lock.packages).filter(([path, p]) => path && p.dev === true).map(([path]) => path);
      for (const tool of ['tsx', 'vitest', 'ajv']) expect(devOnly).toContain(`node_modules/${tool}`);
      for (const path of devOnly) expect(() => statSync(join(dir, path, 'package.json')), `${path} is for development only`).toThrow();
      for (const p of Object.keys(pkg.dependencies)) expect(statSync(join(dir, 'node_modules', p, 'package.json')).isFile(), p).toBe(true);
      // The patched library is the one the tests here run against (tests/unit/git/pack-index.test.ts).
      expect(install.out).toMatch(/^isomorphic-git@[\d.]+ ✔$/m);
      const patched = join('node_modules', 'isomorphic-git', 'index.cjs');
      expect(readFileSync(join(dir, patched)).equals(readFileSync(join(ROOT, patched))), `${patched} is patched`).toBe(true);

      // Runtime stage: the entrypoint with the Deployment's TLS flags and a certificate made as README
      // "Deploying to a cluster" makes it; dev mode, as cluster mode needs a kube-apiserver.
      expect(certs.code, certs.out).toBe(0);
      const dataDir = join(dir, 'data');
      const args = ['dist/gateway/main.js', '--port', '0', '--data-dir', dataDir, '--sync-interval', '0', '--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key')];
      server = spawn('node', args, { cwd: dir, env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      server.stderr?.on('data', (c: Buffer) => (out += c.toString()));
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line within 60 s:\n${out}`)), 60_000);
        server!.stdout?.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /porch-ts listening on (\S+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
        server!.once('exit', (code) => reject(new Error(`server exited (${code}):\n${out}`)));
      });
      expect(url).toMatch(/^https:/);
      // The probes, verified as kube-aggregator verifies the server: against the CA, for the Service's name.
      const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
      for (const path of ['/readyz', '/livez']) expect(await httpsStatus(new URL(path, url), ca, SERVICE_DNS)).toBe(200);
      const resources = await kubectl(['api-resources', '--tls-server-name', SERVICE_DNS, '--cache-dir', join(dir, 'kcache')], { kubeconfig: join(dataDir, 'kubeconfig') });
      expect(resources.code, resources.stderr).toBe(0);
      expect(resources.stdout).toMatch(/^packagerevisions\s/m);
      // kubectl sends a Namespace as protobuf, decoded with the message descriptor the build emits into dist/.
      const created = await kubectl(['create', 'namespace', 'from-image', '--tls-server-name', SERVICE_DNS, '--cache-dir', join(dir, 'kcache')], { kubeconfig: join(dataDir, 'kubeconfig') });
      expect(created.code, created.stderr).toBe(0);
      expect(created.stdout).toMatch(/^namespace\/from-image created$/m);

      const exited = new Promise<number | null>((resolve) => server!.once('exit', (code) => resolve(code)));
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
    }, 300_000);
  });

  it('.dockerignore keeps local state out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const p of ['node_modules', '.git', '.porch-ts', 'dist']) expect(ignored).toContain(p);
    // …but not what the Dockerfile copies.
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) for (const src of m[1].split(' ')) expect(ignored, src).not.toContain(src);
  });
});
