import { spawn } from 'node:child_process';
import { cpus, tmpdir, totalmem } from 'node:os';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { PackageRevision } from '../../lib/api/porch.ts';
import { copyRepo, gitLifecycle, gitListAndReadKptfiles, gitNoticeNewTag, RawFanout } from './baselines.ts';
import { buildRepo, expectedRevisions, packagePath, pushRevision, type RepoShape } from './fixture.ts';
import type { BenchClient } from './http.ts';
import type { MemoryInput, MemoryOutput } from './memory.ts';
import { PORCH, ensureNamespace, registerRepository, revisionCount, startServer, type BenchServer } from './server.ts';
import { percentile, round, sleep, summarize, timeRuns, waitFor } from './stats.ts';
import { WatcherPool } from './watchers.ts';
import { cliPushCommitAndTag, gitMirrorAndRead, pushSource } from './remote.ts';
import { startGitServer } from '../support/git-server.ts';
import { renderCase, writeExecFunction } from './render.ts';

// `npm run bench [-- --quick] [--out file] [--keep] [--only case,case]`: builds git fixtures in Porch's
// layout, runs the real server in this process, and measures it against baselines taken in the same run.

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench-results.json' },
    keep: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
  allowPositionals: false,
});

const QUICK = flags.quick === true;
const SIZES = QUICK
  ? { cold: { packages: 12, revisions: 2, drafts: 4 }, half: { packages: 8, revisions: 2, drafts: 4 }, listRuns: 3, getRuns: 20, opsSeq: 1, opsClients: 2, opsPerClient: 1, watchers: 10, watchRounds: 1, syncRounds: 1, baselineRuns: 1, renderRounds: 1 }
  : { cold: { packages: 1000, revisions: 5, drafts: 250 }, half: { packages: 800, revisions: 5, drafts: 200 }, listRuns: 30, getRuns: 300, opsSeq: 20, opsClients: 8, opsPerClient: 5, watchers: 1000, watchRounds: 3, syncRounds: 5, baselineRuns: 3, renderRounds: 30 };
const ONLY = flags.only ? new Set(flags.only.split(',')) : undefined;
const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io';
const MERGE_PATCH = { 'content-type': 'application/merge-patch+json' };

// A full collection before each case, so one case's garbage is not collected on the next one's clock.
setFlagsFromString('--expose-gc');
const gcNow = runInNewContext('gc') as () => void;
function collect(): void {
  gcNow();
  gcNow();
}

const started = performance.now();
function progress(msg: string): void {
  process.stdout.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);
}

export interface CaseResult {
  id: string;
  title: string;
  unit: string;
  /** The project's figure. */
  value: number;
  /** The same work done by the baseline in this run. */
  baseline: number;
  baselineWhat: string;
  /** value / baseline. */
  ratio: number;
  better: 'lower' | 'higher';
  target?: string;
  met?: boolean;
  details: Record<string, unknown>;
}

const results: CaseResult[] = [];

function record(r: Omit<CaseResult, 'ratio'>): void {
  const full: CaseResult = { ...r, value: round(r.value), baseline: round(r.baseline), ratio: round(r.value / r.baseline) };
  results.push(full);
  progress(`  ${r.id}: ${full.value} ${r.unit} (baseline ${full.baseline} ${r.unit}, ratio ${full.ratio})${r.target ? ` target ${r.target}: ${r.met ? 'met' : 'MISSED'}` : ''}`);
}

function wanted(id: string): boolean {
  return !ONLY || ONLY.has(id);
}

function median(xs: number[]): number {
  return percentile(xs, 50);
}

interface Fixtures {
  dir: string;
  cold: { bare: string; shape: RepoShape };
  mid: { bare: string; shape: RepoShape };
  bigA: { bare: string; shape: RepoShape };
  bigB: { bare: string; shape: RepoShape };
  fan: { bare: string; shape: RepoShape };
}

async function buildFixtures(dir: string): Promise<Fixtures> {
  const make = async (name: string, shape: RepoShape) => {
    const t = performance.now();
    const bare = await buildRepo(dir, name, shape);
    progress(`  fixture ${name}: ${shape.packages} packages × ${shape.revisions} revisions + ${shape.drafts} drafts = ${expectedRevisions(shape)} revisions (${Math.round(performance.now() - t)} ms)`);
    return { bare, shape };
  };
  return {
    dir,
    cold: await make('cold', SIZES.cold),
    mid: await make('mid', SIZES.half),
    bigA: await make('big-a', { ...SIZES.half, prefix: 'a' }),
    bigB: await make('big-b', { ...SIZES.half, prefix: 'b' }),
    fan: await make('fan', { packages: 5, revisions: 1, drafts: 0 }),
  };
}

// ---- 1. cold load ----

async function coldLoad(s: BenchServer, fx: Fixtures): Promise<void> {
  const expected = expectedRevisions(fx.cold.shape);
  progress(`cold load: git baseline (for-each-ref + cat-file --batch of ${expected} Kptfiles) ×${SIZES.baselineRuns}`);
  const base: number[] = [];
  for (let i = 0; i < SIZES.baselineRuns; i++) {
    const t = performance.now();
    const n = await gitListAndReadKptfiles(fx.cold.bare);
    base.push(performance.now() - t);
    if (n !== expected) throw new Error(`git baseline read ${n} Kptfiles, expected ${expected}`);
  }
  collect();
  progress(`cold load: registering repository "cold" (${expected} revisions)`);
  const t0 = performance.now();
  await registerRepository(s.client, 'bench-cold', 'cold', fx.cold.bare);
  let lastReport = t0;
  await waitFor(
    () => {
      if (performance.now() - lastReport > 5000) {
        lastReport = performance.now();
        progress(`  … still loading (${Math.round((lastReport - t0) / 1000)} s)`);
      }
      return revisionCount(s.ctx, 'bench-cold', 'cold') >= expected;
    },
    30 * 60_000,
    'the cold repository to load',
  );
  const loaded = performance.now() - t0;
  const list = await s.client.json<{ items: unknown[] }>('GET', `${PORCH}/namespaces/bench-cold/packagerevisions`);
  const ms = performance.now() - t0;
  if (list.items.length !== expected) throw new Error(`listed ${list.items.length} revisions, expected ${expected}`);
  const b = median(base);
  record({
    id: 'cold-load',
    title: `cold load ${fx.cold.shape.packages}×${fx.cold.shape.revisions} (${expected} revisions): register → all listed`,
    unit: 'ms',
    value: ms,
    baseline: b,
    baselineWhat: 'git for-each-ref + ls-tree + cat-file --batch of every Kptfile',
    better: 'lower',
    target: '≤ 2× baseline',
    met: ms <= 2 * b,
    details: { revisions: expected, engineLoadedMs: round(loaded), baselineRunsMs: base.map((x) => round(x)) },
  });
}

// ---- 2. list ----

async function listCase(s: BenchServer, ns: string, expected: number, label: string): Promise<void> {
  const path = `${PORCH}/namespaces/${ns}/packagerevisions`;
  const first = await s.client.json<{ items: unknown[] }>('GET', path);
  if (first.items.length !== expected) throw new Error(`${ns}: listed ${first.items.length}, expected ${expected}`);
  const table = await s.client.json<{ rows: unknown[] }>('GET', path, { headers: { accept: TABLE_ACCEPT } });
  if (table.rows.length !== expected) throw new Error(`${ns}: table has ${table.rows.length} rows, expected ${expected}`);

  // Baseline: JSON.stringify of the same objects in this process.
  const items = s.ctx.engine.listRevisions(ns, () => true);
  collect();
  const baseRuns = await timeRuns(SIZES.listRuns, () => JSON.stringify({ apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevisionList', metadata: { resourceVersion: '1' }, items }));
  const bs = summarize(baseRuns);
  for (const [kind, headers] of [
    ['json', {}],
    ['table', { accept: TABLE_ACCEPT }],
  ] as const) {
    collect();
    const runs = await timeRuns(SIZES.listRuns, async () => {
      const r = await s.client.request('GET', path, { headers });
      if (r.status !== 200) throw new Error(`list: HTTP ${r.status}`);
    });
    const sm = summarize(runs);
    const bytes = (await s.client.request('GET', path, { headers })).body.length;
    const big = label === '10k';
    record({
      id: `list-${label}-${kind}`,
      title: `list ${expected} revisions as ${kind === 'json' ? 'JSON' : 'Table'}: p50 over ${SIZES.listRuns}`,
      unit: 'ms',
      value: sm.p50,
      baseline: bs.p50,
      baselineWhat: 'JSON.stringify of the same objects in process (p50)',
      better: 'lower',
      ...(big ? { target: '≤ 1.5× baseline', met: sm.p50 <= 1.5 * bs.p50 } : {}),
      details: { server: sm, baseline: bs, responseBytes: bytes, revisions: expected },
    });
  }
}

// ---- 3. get ----

async function getCase(s: BenchServer, name: string): Promise<void> {
  const cached = s.ctx.engine.listRevisions(undefined, () => true).length;
  collect();
  const floor = summarize(await timeRuns(SIZES.getRuns, () => s.client.request('GET', '/version'), 20));
  for (const [id, path] of [
    ['get-revision', `${PORCH}/namespaces/bench-10k/packagerevisions/${name}`],
    ['get-resources', `${PORCH}/namespaces/bench-10k/packagerevisionresources/${name}`],
  ] as const) {
    collect();
    const runs = await timeRuns(
      SIZES.getRuns,
      async () => {
        const r = await s.client.request('GET', path);
        if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status}`);
      },
      20,
    );
    const sm = summarize(runs);
    record({
      id,
      title: `get ${id === 'get-revision' ? 'one revision' : 'one revision\'s resources'} with ${cached} cached: p99 over ${SIZES.getRuns}`,
      unit: 'ms',
      value: sm.p99,
      baseline: floor.p99,
      baselineWhat: 'GET /version through the same gateway (p99)',
      better: 'lower',
      target: 'p99 < 2 ms',
      met: sm.p99 < 2,
      details: { server: sm, baseline: floor, cached },
    });
  }
}

// ---- 4. create + update resources + propose + approve ----

async function lifecycle(client: BenchClient, ns: string, repo: string, pkg: string): Promise<number> {
  const t = performance.now();
  const pr = await client.json<PackageRevision>('POST', `${PORCH}/namespaces/${ns}/packagerevisions`, {
    body: { apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevision', metadata: { namespace: ns }, spec: { packageName: pkg, workspaceName: 'v1', repository: repo } },
  });
  const name = pr.metadata.name ?? '';
  const prr = await client.json<{ spec: { resources: Record<string, string> } }>('GET', `${PORCH}/namespaces/${ns}/packagerevisionresources/${name}`);
  prr.spec.resources['cm.yaml'] = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${pkg.split('/').pop()}\ndata:\n  k: v\n`;
  await client.json('PUT', `${PORCH}/namespaces/${ns}/packagerevisionresources/${name}`, { body: prr });
  await client.json('PATCH', `${PORCH}/namespaces/${ns}/packagerevisions/${name}`, { body: { spec: { lifecycle: 'Proposed' } }, headers: MERGE_PATCH });
  const done = await client.json<PackageRevision>('PATCH', `${PORCH}/namespaces/${ns}/packagerevisions/${name}/approval`, { body: { spec: { lifecycle: 'Published' } }, headers: MERGE_PATCH });
  if (done.spec.lifecycle !== 'Published') throw new Error(`${name} is ${done.spec.lifecycle} after approval`);
  return performance.now() - t;
}

async function lifecycleCase(s: BenchServer, fx: Fixtures): Promise<void> {
  const ns = 'bench-cold';
  const repoSize = revisionCount(s.ctx, ns, 'cold');
  progress(`lifecycle: git plumbing baseline ×${SIZES.opsSeq} on a copy of "cold"`);
  const copy = copyRepo(fx.cold.bare, join(fx.dir, 'cold-baseline.git'));
  const files = { Kptfile: 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\n', 'README.md': '# x\n', 'package-context.yaml': 'apiVersion: v1\nkind: ConfigMap\n' };
  const baseRuns: number[] = [];
  const tb = performance.now();
  for (let i = 0; i < SIZES.opsSeq; i++) {
    const t = performance.now();
    await gitLifecycle(copy, `ops/base${i}`, files, ['cm.yaml', 'apiVersion: v1\nkind: ConfigMap\n']);
    baseRuns.push(performance.now() - t);
  }
  const baseRate = SIZES.opsSeq / ((performance.now() - tb) / 1000);
  const bs = summarize(baseRuns);

  collect();
  progress(`lifecycle: ${SIZES.opsSeq} packages one after another in "cold" (${repoSize} revisions)`);
  await lifecycle(s.client, ns, 'cold', 'ops/warmup');
  const seq: number[] = [];
  const ts = performance.now();
  for (let i = 0; i < SIZES.opsSeq; i++) seq.push(await lifecycle(s.client, ns, 'cold', `ops/seq${i}`));
  const seqRate = SIZES.opsSeq / ((performance.now() - ts) / 1000);
  const ss = summarize(seq);
  record({
    id: 'lifecycle-sequential',
    title: `create+update resources+propose+approve, sequential, ${SIZES.opsSeq} packages (repo of ${repoSize})`,
    unit: 'pkg/s',
    value: seqRate,
    baseline: baseRate,
    baselineWhat: 'the same git writes with git plumbing commands (sequential)',
    better: 'higher',
    details: { latency: ss, baselineLatency: bs },
  });

  const total = SIZES.opsClients * SIZES.opsPerClient;
  progress(`lifecycle: ${total} packages with ${SIZES.opsClients} clients in parallel`);
  const par: number[] = [];
  const tp = performance.now();
  await Promise.all(
    Array.from({ length: SIZES.opsClients }, async (_, c) => {
      for (let j = 0; j < SIZES.opsPerClient; j++) par.push(await lifecycle(s.client, ns, 'cold', `ops/par${c}-${j}`));
    }),
  );
  const parRate = total / ((performance.now() - tp) / 1000);
  const ps = summarize(par);
  record({
    id: 'lifecycle-parallel',
    title: `create+update resources+propose+approve, ${SIZES.opsClients} clients in parallel, ${total} packages`,
    unit: 'pkg/s',
    value: parRate,
    baseline: baseRate,
    baselineWhat: 'the same git writes with git plumbing commands (sequential)',
    better: 'higher',
    details: { latency: ps, p99LatencyMs: ps.p99, baselineLatency: bs },
  });
}

// ---- 4b. a remote over smart HTTP: cold load and lifecycle steps ----

async function lifecycleSteps(client: BenchClient, ns: string, repo: string, pkg: string): Promise<{ cycle: number; approve: number }> {
  const t = performance.now();
  const pr = await client.json<PackageRevision>('POST', `${PORCH}/namespaces/${ns}/packagerevisions`, {
    body: { apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevision', metadata: { namespace: ns }, spec: { packageName: pkg, workspaceName: 'v1', repository: repo } },
  });
  const name = pr.metadata.name ?? '';
  await client.json('PATCH', `${PORCH}/namespaces/${ns}/packagerevisions/${name}`, { body: { spec: { lifecycle: 'Proposed' } }, headers: MERGE_PATCH });
  const ta = performance.now();
  const done = await client.json<PackageRevision>('PATCH', `${PORCH}/namespaces/${ns}/packagerevisions/${name}/approval`, { body: { spec: { lifecycle: 'Published' } }, headers: MERGE_PATCH });
  if (done.spec.lifecycle !== 'Published') throw new Error(`${name} is ${done.spec.lifecycle} after approval`);
  const end = performance.now();
  return { cycle: end - t, approve: end - ta };
}

async function remoteCase(s: BenchServer, fx: Fixtures): Promise<void> {
  const served = copyRepo(fx.cold.bare, join(fx.dir, 'served', 'cold-remote.git'));
  copyRepo(fx.cold.bare, join(fx.dir, 'served', 'cold-floor.git'));
  const gs = await startGitServer({ root: join(fx.dir, 'served') });
  try {
    const ns = 'bench-remote';
    await ensureNamespace(s.client, ns);
    const expected = expectedRevisions(fx.cold.shape);
    progress(`remote: git clone --mirror over HTTP + cat-file --batch of ${expected} Kptfiles ×${SIZES.baselineRuns}`);
    const base: number[] = [];
    for (let i = 0; i < SIZES.baselineRuns; i++) {
      const t = performance.now();
      const n = await gitMirrorAndRead(`${gs.url}/cold-floor.git`, join(fx.dir, `mirror-floor-${i}.git`));
      base.push(performance.now() - t);
      if (n !== expected) throw new Error(`git floor read ${n} Kptfiles, expected ${expected}`);
      await rm(join(fx.dir, `mirror-floor-${i}.git`), { recursive: true, force: true });
    }
    collect();
    progress(`remote: registering ${gs.url}/cold-remote.git (${expected} revisions)`);
    const requestsBefore = gs.requests.length;
    const t0 = performance.now();
    await registerRepository(s.client, ns, 'remote', `${gs.url}/cold-remote.git`);
    await waitFor(() => revisionCount(s.ctx, ns, 'remote') >= expected, 30 * 60_000, 'the remote repository to load');
    const list = await s.client.json<{ items: unknown[] }>('GET', `${PORCH}/namespaces/${ns}/packagerevisions`);
    const ms = performance.now() - t0;
    if (list.items.length !== expected) throw new Error(`listed ${list.items.length} remote revisions, expected ${expected}`);
    const b = median(base);
    record({
      id: 'cold-load-remote',
      title: `cold load over smart HTTP ${fx.cold.shape.packages}×${fx.cold.shape.revisions} (${expected} revisions): register → all listed`,
      unit: 'ms',
      value: ms,
      baseline: b,
      baselineWhat: 'git clone --mirror over the same server + cat-file --batch of every Kptfile',
      better: 'lower',
      target: '≤ 1.5× baseline',
      met: ms <= 1.5 * b,
      details: { revisions: expected, baselineRunsMs: base.map((x) => round(x)), gitRequests: gs.requests.slice(requestsBefore) },
    });

    progress(`remote: ${SIZES.opsSeq} CLI pushes of a commit and a tag (floor), ${SIZES.opsSeq} create+propose+approve`);
    const source = await pushSource(`${gs.url}/cold-floor.git`, join(fx.dir, 'push-source.git'));
    const pushes: number[] = [];
    for (let i = 0; i < SIZES.opsSeq; i++) pushes.push(await cliPushCommitAndTag(source, `${gs.url}/cold-floor.git`, `floor/p${i}`));
    collect();
    await lifecycleSteps(s.client, ns, 'remote', 'ops/warmup');
    const cycles: number[] = [];
    const approvals: number[] = [];
    for (let i = 0; i < SIZES.opsSeq; i++) {
      const r = await lifecycleSteps(s.client, ns, 'remote', `ops/remote${i}`);
      cycles.push(r.cycle);
      approvals.push(r.approve);
    }
    const floor = summarize(pushes);
    const cs = summarize(cycles);
    const as = summarize(approvals);
    record({
      id: 'lifecycle-remote-cycle',
      title: `create+propose+approve over smart HTTP (repo of ${expected}): p50 over ${SIZES.opsSeq}`,
      unit: 'ms',
      value: cs.p50,
      baseline: floor.p50,
      baselineWhat: 'one CLI git push of a commit and a tag to the same server (p50)',
      better: 'lower',
      target: '≤ 2× baseline',
      met: cs.p50 <= 2 * floor.p50,
      details: { cycle: cs, approve: as, push: floor },
    });
    record({
      id: 'lifecycle-remote-approve',
      title: `approve over smart HTTP (repo of ${expected}): p50 over ${SIZES.opsSeq}`,
      unit: 'ms',
      value: as.p50,
      baseline: floor.p50,
      baselineWhat: 'one CLI git push of a commit and a tag to the same server (p50)',
      better: 'lower',
      target: '≤ 1× baseline',
      met: as.p50 <= floor.p50,
      details: { approve: as, push: floor },
    });
  } finally {
    await gs.stop();
  }
}

// ---- 5. watch fan-out ----

async function fanoutCase(s: BenchServer): Promise<void> {
  const n = SIZES.watchers;
  const hub = s.ctx.engine.revisionHub;
  let published = 0;
  const probe = hub.subscribe({ filter: () => true, send: () => (published ||= performance.now()) });
  const base = hub.size;
  const rv = s.ctx.engine.currentResourceVersion();
  progress(`watch fan-out: opening ${n} watches (resourceVersion ${rv})`);
  const pool = new WatcherPool();
  await pool.open(`${s.url}${PORCH}/namespaces/bench-fan/packagerevisions?watch=true&resourceVersion=${rv}`, n, (opened) => hub.size - base >= opened);
  collect();
  const lat: number[] = [];
  const total: number[] = [];
  let frame = Buffer.alloc(0);
  for (let k = 1; k <= SIZES.watchRounds; k++) {
    published = 0;
    const t0 = performance.now();
    const pr = await s.client.json<PackageRevision>('POST', `${PORCH}/namespaces/bench-fan/packagerevisions`, {
      body: { apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevision', metadata: { namespace: 'bench-fan' }, spec: { packageName: packagePath({}, 0), workspaceName: `w${k}`, repository: 'fan' } },
    });
    await waitFor(() => pool.allHave(k), 60_000, `all ${n} watchers to get event ${k}`, 1);
    const l = pool.latencies(k, published);
    lat.push(...l);
    total.push(Math.max(...pool.latencies(k, t0)));
    frame = Buffer.from(JSON.stringify({ type: 'ADDED', object: pr }) + '\n');
    await sleep(100);
  }
  pool.close();
  probe();
  const sm = summarize(lat);

  progress(`watch fan-out: baseline, plain node:http writing one frame to ${n} chunked responses`);
  const raw = new RawFanout();
  await raw.start();
  const rawPool = new WatcherPool();
  await rawPool.open(raw.url, n, (opened) => raw.size >= opened);
  const rawLat: number[] = [];
  for (let k = 1; k <= SIZES.watchRounds; k++) {
    const t0 = performance.now();
    raw.broadcast(frame);
    await waitFor(() => rawPool.allHave(k), 60_000, 'raw watchers', 1);
    rawLat.push(...rawPool.latencies(k, t0));
    await sleep(100);
  }
  rawPool.close();
  await raw.stop();
  const rs = summarize(rawLat);
  record({
    id: 'watch-fanout',
    title: `watch fan-out to ${n} watchers: event published → received, p99 over ${SIZES.watchRounds} events`,
    unit: 'ms',
    value: sm.p99,
    baseline: rs.p99,
    baselineWhat: 'node:http writing one prepared frame to as many chunked responses (p99)',
    better: 'lower',
    target: 'p99 < 100 ms',
    met: sm.p99 < 100,
    details: { server: sm, baseline: rs, writeToLastReceivedMs: total.map((x) => round(x)) },
  });
}

// ---- 6. memory (child process) ----

async function memoryCase(fx: Fixtures, dataDir: string): Promise<void> {
  const input: MemoryInput = {
    dataDir,
    namespace: 'bench-mem',
    idleMs: QUICK ? 500 : 15_000,
    repos: [
      { name: 'big-a', bare: fx.bigA.bare, expected: expectedRevisions(fx.bigA.shape) },
      { name: 'big-b', bare: fx.bigB.bare, expected: expectedRevisions(fx.bigB.shape) },
    ],
  };
  const total = input.repos.reduce((a, r) => a + r.expected, 0);
  // RSS after the load moves by a kilobyte per revision from one process to the next (where the allocator
  // happened to leave its arenas), so the full run takes the median of three processes.
  const runs: MemoryOutput[] = [];
  for (let i = 0; i < (QUICK ? 1 : 3); i++) {
    progress(`memory: loading ${total} revisions in a fresh process (node --expose-gc), run ${i + 1}`);
    runs.push(await memoryRun({ ...input, dataDir: `${dataDir}-${i}` }));
  }
  const perRevOf = (m: MemoryOutput) => (m.rssAfter - m.rssBefore) / m.revisions;
  const sorted = [...runs].sort((a, b) => perRevOf(a) - perRevOf(b));
  const m = sorted[Math.floor(sorted.length / 2)];
  const perRev = perRevOf(m);
  const jsonPerRev = m.jsonBytes / m.revisions;
  record({
    id: 'memory',
    title: `memory: RSS growth per cached revision (${m.revisions} loaded and listed; median of ${runs.length} processes)`,
    unit: 'B/rev',
    value: perRev,
    baseline: jsonPerRev,
    baselineWhat: 'size of one revision in the JSON list response',
    better: 'lower',
    target: '≤ 4096 B/rev (4 KiB)',
    met: perRev <= 4096,
    details: {
      everyRun: runs.map((r) => round(perRevOf(r), 0)),
      rssBeforeMiB: round(m.rssBefore / 2 ** 20, 1),
      rssAfterMiB: round(m.rssAfter / 2 ** 20, 1),
      rssPerRevisionRightAfterLoad: round((m.rssLoaded - m.rssBefore) / m.revisions, 0),
      idleMs: input.idleMs,
      heapPerRevision: round((m.heapAfter - m.heapBefore) / m.revisions, 0),
      externalPerRevision: round((m.externalAfter - m.externalBefore) / m.revisions, 0),
      loadMs: round(m.loadMs),
    },
  });
}

async function memoryRun(input: MemoryInput): Promise<MemoryOutput> {
  const script = fileURLToPath(new URL('./memory.ts', import.meta.url));
  const out = await new Promise<string>((ok, fail) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', script, JSON.stringify(input)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (b: Buffer) => (text += b.toString('utf8')));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? ok(text) : fail(new Error(`memory child exited ${code}: ${text}`))));
  });
  const line = out.split('\n').find((l) => l.startsWith('MEMORY_RESULT '));
  if (!line) throw new Error(`memory child printed no result: ${out}`);
  return JSON.parse(line.slice('MEMORY_RESULT '.length)) as MemoryOutput;
}

// ---- 7. incremental sync ----

async function syncCase(s: BenchServer, fx: Fixtures): Promise<void> {
  const size = revisionCount(s.ctx, 'bench-5k', 'mid');
  const runs: number[] = [];
  const base: number[] = [];
  collect();
  for (let i = 0; i < SIZES.syncRounds; i++) {
    const pkg = packagePath(fx.mid.shape, i);
    const n = fx.mid.shape.revisions + 1;
    await pushRevision(fx.mid.bare, 'mid', pkg, n);
    const tag = `refs/tags/${pkg}/v${n}`;
    const name = `mid.${pkg.split('/').join('.')}.v${n}`;
    const t = performance.now();
    await s.ctx.sync.sync('bench-5k', 'mid');
    const r = await s.client.request('GET', `${PORCH}/namespaces/bench-5k/packagerevisions/${name}`);
    if (r.status !== 200) throw new Error(`${name} not listed after sync: HTTP ${r.status}`);
    runs.push(performance.now() - t);
    const tb = performance.now();
    await gitNoticeNewTag(fx.mid.bare, tag, pkg);
    base.push(performance.now() - tb);
  }
  const sm = summarize(runs);
  const bs = summarize(base);
  record({
    id: 'incremental-sync',
    title: `incremental sync: one new tag in a repository of ${size} revisions → listed (p50 of ${SIZES.syncRounds})`,
    unit: 'ms',
    value: sm.p50,
    baseline: bs.p50,
    baselineWhat: 'git for-each-ref + cat-file of the new Kptfile',
    better: 'lower',
    target: '< 1000 ms',
    met: sm.max < 1000,
    details: { server: sm, baseline: bs },
  });
}

// ---- 8. render + save ----

async function renderRows(s: BenchServer, dir: string, execPath: string): Promise<void> {
  progress(`render: ${SIZES.renderRounds} saves of a 20-resource package each without a pipeline, with three built-in mutators, with one executable`);
  const r = await renderCase(s, dir, SIZES.renderRounds, execPath);
  record({
    id: 'render-builtin',
    title: `render + save of 20 resources with set-namespace, set-labels, apply-setters (PUT resources, p50 of ${SIZES.renderRounds})`,
    unit: 'ms',
    value: r.builtin.p50,
    baseline: r.plain.p50,
    baselineWhat: 'the same save without a pipeline (p50)',
    better: 'lower',
    target: 'p50 ≤ 50 ms',
    met: r.builtin.p50 <= 50,
    details: { server: r.builtin, baseline: r.plain },
  });
  record({
    id: 'render-exec',
    title: `render + save of 20 resources with one executable function (PUT resources, p50 of ${SIZES.renderRounds})`,
    unit: 'ms',
    value: r.exec.p50,
    baseline: r.plain.p50,
    baselineWhat: 'the same save without a pipeline (p50)',
    better: 'lower',
    // Most of the difference is starting the program: processStart is that alone, outside the server.
    details: { server: r.exec, baseline: r.plain, processStart: r.processStart, overPlainMs: Math.round((r.exec.p50 - r.plain.p50) * 10) / 10 },
  });
}

// ---- driver ----

function printTable(): void {
  const rows = results.map((r) => [r.id, `${r.value} ${r.unit}`, `${r.baseline} ${r.unit}`, `${r.ratio}×`, r.target ?? '', r.target ? (r.met ? 'yes' : 'NO') : '']);
  const head = ['case', 'porch-ts', 'baseline', 'ratio', 'target', 'met'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log('');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log('');
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'porch-bench-'));
  progress(`${QUICK ? 'quick' : 'full'} run; fixtures in ${dir}; ${cpus().length} CPUs, node ${process.version}`);
  let server: BenchServer | undefined;
  try {
    progress('building fixtures with git fast-import');
    const fx = await buildFixtures(dir);
    progress('starting the server in process');
    const fns = await writeExecFunction(dir);
    server = await startServer(join(dir, 'data'), { functionConfig: fns.config });
    const s = server;
    for (let i = 0; i < 50; i++) await s.client.request('GET', '/version');
    for (const ns of ['bench-cold', 'bench-5k', 'bench-10k', 'bench-fan']) await ensureNamespace(s.client, ns);

    if (wanted('cold-load')) await coldLoad(s, fx);
    progress('registering "mid" (bench-5k), "big-a" and "big-b" (bench-10k), "fan" (bench-fan)');
    const t = performance.now();
    await registerRepository(s.client, 'bench-5k', 'mid', fx.mid.bare);
    await registerRepository(s.client, 'bench-10k', 'big-a', fx.bigA.bare);
    await registerRepository(s.client, 'bench-10k', 'big-b', fx.bigB.bare);
    await registerRepository(s.client, 'bench-fan', 'fan', fx.fan.bare);
    await waitFor(
      () =>
        revisionCount(s.ctx, 'bench-5k', 'mid') === expectedRevisions(fx.mid.shape) &&
        revisionCount(s.ctx, 'bench-10k', 'big-a') === expectedRevisions(fx.bigA.shape) &&
        revisionCount(s.ctx, 'bench-10k', 'big-b') === expectedRevisions(fx.bigB.shape) &&
        revisionCount(s.ctx, 'bench-fan', 'fan') === expectedRevisions(fx.fan.shape),
      30 * 60_000,
      'repositories to load',
      10,
    );
    progress(`  loaded in ${Math.round(performance.now() - t)} ms`);

    const half = expectedRevisions(fx.mid.shape);
    if (wanted('list')) {
      progress(`list: ${half} revisions (bench-5k)`);
      await listCase(s, 'bench-5k', half, '5k');
      progress(`list: ${2 * half} revisions (bench-10k)`);
      await listCase(s, 'bench-10k', 2 * half, '10k');
    }
    if (wanted('get')) {
      progress('get: one revision and its resources');
      await getCase(s, `big-a.${packagePath(fx.bigA.shape, 1).split('/').join('.')}.v2`);
    }
    if (wanted('watch-fanout')) await fanoutCase(s);
    if (wanted('incremental-sync')) {
      progress('incremental sync: pushing new tags to "mid" and syncing');
      await syncCase(s, fx);
    }
    if (wanted('remote')) await remoteCase(s, fx);
    if (wanted('lifecycle')) await lifecycleCase(s, fx);
    if (wanted('render')) await renderRows(s, dir, fns.exec);
    progress('stopping the server');
    await s.stop();
    server = undefined;
    if (wanted('memory')) await memoryCase(fx, join(dir, 'mem-data'));

    printTable();
    const out = resolve(flags.out ?? 'bench-results.json');
    await writeFile(
      out,
      JSON.stringify(
        {
          mode: QUICK ? 'quick' : 'full',
          date: new Date().toISOString(),
          machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: round(totalmem() / 2 ** 30, 1), node: process.version, platform: process.platform },
          durationMs: round(performance.now() - started),
          cases: results,
        },
        null,
        2,
      ) + '\n',
    );
    progress(`wrote ${out}`);
  } finally {
    if (server) await server.stop().catch(() => undefined);
    if (!flags.keep) await rm(dir, { recursive: true, force: true });
    else progress(`kept ${dir}`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);

