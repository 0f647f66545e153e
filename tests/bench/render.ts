import { spawnSync } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PackageRevision } from '../../lib/api/porch.ts';
import type { BenchClient } from './http.ts';
import { PORCH, ensureNamespace, registerRepository, revisionCount, type BenchServer } from './server.ts';
import { buildRepo, expectedRevisions } from './fixture.ts';
import { pipelineKptfile, type FunctionStep } from '../support/kpt-pipeline.ts';
import { summarize, waitFor, type Summary } from './stats.ts';

// Render + save of a 20-resource package: PUT of its PackageRevisionResources with a pipeline of three
// built-in mutators, against the same PUT without a pipeline (the baseline, same run, same server);
// and with one executable function, whose cost is mostly starting its process.

const NS = 'bench-render';
const REPO = 'render';

/** An executable function for --function-config: passes the ResourceList through unchanged. */
export async function writeExecFunction(dir: string): Promise<{ config: string; exec: string }> {
  const exec = join(dir, 'passthrough.sh');
  await writeFile(exec, '#!/bin/sh\nexec cat\n');
  await chmod(exec, 0o755);
  const config = join(dir, 'functions.yaml');
  await writeFile(config, `functions:\n  - image: example.com/bench/passthrough\n    exec: ${exec}\n`);
  return { config, exec };
}

const BUILTINS: FunctionStep[] = [
  { image: 'gcr.io/kpt-fn/set-namespace:v0.4.1', configMap: { namespace: 'bench' } },
  { image: 'gcr.io/kpt-fn/set-labels:v0.2.0', configMap: { tier: 'web' } },
  { image: 'gcr.io/kpt-fn/apply-setters:v0.2.0', configMap: { replicas: '3' } },
];
const EXEC: FunctionStep[] = [{ image: 'example.com/bench/passthrough:v1' }];

/** Ten Deployments with a setter and ten ConfigMaps; `round` changes one value so every save commits. */
function resources(round: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < 10; i++) {
    out[`deploy-${i}.yaml`] = `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-${i}\nspec:\n  replicas: 1 # kpt-set: \${replicas}\n  template:\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.25\n`;
    out[`cm-${i}.yaml`] = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-${i}\ndata:\n  round: "${i === 0 ? round : 0}"\n`;
  }
  return out;
}

interface Prr {
  metadata: { resourceVersion?: string };
  spec: { resources: Record<string, string> };
  status?: { renderStatus?: { error?: string; result?: { items?: unknown[] } } };
}

async function draft(client: BenchClient, pkg: string): Promise<string> {
  const pr = await client.json<PackageRevision>('POST', `${PORCH}/namespaces/${NS}/packagerevisions`, {
    body: { apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevision', metadata: { namespace: NS }, spec: { packageName: pkg, workspaceName: 'ws', repository: REPO } },
  });
  return pr.metadata.name ?? '';
}

/** Latencies of `rounds` saves of the package (after two warm-ups), each a new commit. */
async function saves(client: BenchClient, name: string, functions: FunctionStep[], rounds: number, expectFunctions: number): Promise<number[]> {
  const path = `${PORCH}/namespaces/${NS}/packagerevisionresources/${name}`;
  let prr = await client.json<Prr>('GET', path);
  const out: number[] = [];
  for (let i = 0; i < rounds + 2; i++) {
    const body = { ...prr, status: undefined, spec: { ...prr.spec, resources: { ...prr.spec.resources, Kptfile: pipelineKptfile(name, 'bench', functions), ...resources(i) } } };
    const t = performance.now();
    prr = await client.json<Prr>('PUT', path, { body });
    if (i >= 2) out.push(performance.now() - t);
    const ran = prr.status?.renderStatus?.result?.items?.length ?? -1;
    if (prr.status?.renderStatus?.error || ran !== expectFunctions) throw new Error(`${name}: render ran ${ran} functions (want ${expectFunctions}): ${prr.status?.renderStatus?.error ?? ''}`);
  }
  return out;
}

export interface RenderRows {
  builtin: Summary;
  exec: Summary;
  plain: Summary;
  /** Starting the executable on the same input, outside the server (p50). */
  processStart: Summary;
}

export async function renderCase(s: BenchServer, dir: string, rounds: number, execPath: string): Promise<RenderRows> {
  await ensureNamespace(s.client, NS);
  const bare = await buildRepo(dir, REPO, { packages: 1, revisions: 1, drafts: 0 });
  await registerRepository(s.client, NS, REPO, bare);
  await waitFor(() => revisionCount(s.ctx, NS, REPO) === expectedRevisions({ packages: 1, revisions: 1, drafts: 0 }), 120_000, 'the render repository to load');
  const plainName = await draft(s.client, 'render-plain');
  const builtinName = await draft(s.client, 'render-builtin');
  const execName = await draft(s.client, 'render-exec');
  const plain = summarize(await saves(s.client, plainName, [], rounds, 0));
  const builtin = summarize(await saves(s.client, builtinName, BUILTINS, rounds, 3));
  const exec = summarize(await saves(s.client, execName, EXEC, rounds, 1));
  const input = 'apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n';
  const starts: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    spawnSync(execPath, [], { input });
    starts.push(performance.now() - t);
  }
  return { builtin, exec, plain, processStart: summarize(starts) };
}
