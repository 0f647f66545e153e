import { join } from 'node:path';
import { findResource, RESOURCES } from './api/resources.ts';
import { DEFAULT_CONFIG, type AppContext, type ServerConfig } from './context.ts';
import type { Logger } from './log.ts';
import { ShutdownSignal } from './shutdown.ts';
import { EmbeddedStore } from './store/embedded.ts';
import type { Store } from './store/types.ts';
import { ClusterStore } from './store/cluster.ts';
import type { KubeClient } from './store/kube-client.ts';
import { Engine, PACKAGEREVS, REPOSITORIES } from './engine/engine.ts';
import { RevisionOperations } from './engine/operations.ts';
import syncRepositories from '../handlers/sync-repositories.ts';
import type { Clock } from './sync/clock.ts';
import { SyncRunner, type SyncRunnerOptions } from './sync/runner.ts';
import { SyncScheduler } from './sync/scheduler.ts';
import { openPorchRepository } from './git/porch-repository.ts';
import { DraftRenderer } from './engine/render-step.ts';
import { createRuntimes, type RuntimeFlags } from './render/index.ts';

const BUILTIN_NAMESPACES = ['default', 'kube-system', 'kube-public'];

/** The namespaces every Kubernetes cluster starts with, so objects can be created at once. */
async function ensureNamespaces(store: Store): Promise<void> {
  const ns = findResource('', 'v1', 'namespaces')!;
  for (const name of BUILTIN_NAMESPACES) {
    if (!(await store.get(ns, undefined, name)))
      await store.create(ns, { apiVersion: 'v1', kind: 'Namespace', metadata: { name }, status: { phase: 'Active' } });
  }
}

export interface DevContextOptions {
  dataDir: string;
  log: Logger;
  config?: Partial<ServerConfig>;
  durable?: boolean;
  gitTimeoutMs?: number;
  /** Repository sync bounds (the runner's defaults when absent) and the scheduler's default period (none when absent). */
  sync?: SyncRunnerOptions & { intervalMs?: number; clock?: Clock };
  /**
   * Serve the store alone: the engine never starts, so no Repository is opened or synced. The dev
   * server then stands in for kube-apiserver (CRDs, Secrets, Namespaces) in front of a cluster-mode server.
   */
  storeOnly?: boolean;
  /** Where functions of Kptfile pipelines run besides the built-in ones (`--function-config`, `--function-runner`). */
  functions?: RuntimeFlags;
}

/**
 * The same engine, operations and sync around whichever store the mode brings. Every sync is fired
 * by the scheduler through the sync-repositories handler; both stop when the shutdown signal fires.
 */
async function contextAround(store: Store, opts: Omit<DevContextOptions, 'durable'>): Promise<AppContext> {
  const engine = new Engine({ store, log: opts.log, openGit: openPorchRepository, dataDir: opts.dataDir, gitTimeoutMs: opts.gitTimeoutMs });
  const { intervalMs, clock, ...bounds } = opts.sync ?? {};
  const functions = createRuntimes(opts.functions ?? {});
  const ctx: AppContext = {
    store,
    log: opts.log,
    config: { ...DEFAULT_CONFIG, ...opts.config },
    shutdown: new ShutdownSignal(),
    engine,
    ops: new RevisionOperations(engine, new DraftRenderer({ runtimes: functions.runtimes })),
    sync: new SyncRunner(engine, bounds),
  };
  ctx.shutdown.onShutdown(() => ctx.sync.stop());
  // Renders still running when the stop is asked for finish against the function runner first.
  ctx.shutdown.onShutdown(() => void ctx.shutdown.drained(30_000).then(() => functions.close()));
  // A stand-in kube-apiserver opens and syncs nothing: the repositories are the cluster-mode server's.
  if (opts.storeOnly) return ctx;
  await engine.start();
  const scheduler = new SyncScheduler({ store, runner: ctx.sync, handler: syncRepositories(ctx), intervalMs: intervalMs ?? 0, log: opts.log, clock });
  ctx.shutdown.onShutdown(() => scheduler.stop());
  await scheduler.start();
  ctx.scheduler = scheduler;
  return ctx;
}

/** The embedded (dev) wiring: an on-disk store under the data directory. */
export async function createDevContext(opts: DevContextOptions): Promise<AppContext> {
  const store = await EmbeddedStore.open(join(opts.dataDir, 'store'), RESOURCES, { durable: opts.durable });
  await ensureNamespaces(store);
  return contextAround(store, opts);
}

export interface ClusterContextOptions extends Omit<DevContextOptions, 'durable' | 'storeOnly'> {
  /** The Kubernetes API server holding the config.porch.kpt.dev CRDs. */
  client: KubeClient;
  /** How long start-up waits for the informers' first list of Repositories, PackageRevs and Namespaces. */
  informerSyncTimeoutMs?: number;
}

/**
 * The cluster wiring: Repository, PackageRev… live in kube-apiserver (ClusterStore); the data
 * directory only keeps git mirrors. Everything above the store is the same as in dev mode.
 */
export async function createClusterContext(opts: ClusterContextOptions): Promise<AppContext> {
  const prefetch = [REPOSITORIES, PACKAGEREVS, findResource('', 'v1', 'namespaces')!];
  const store = await ClusterStore.open({ client: opts.client, log: opts.log.child({ component: 'cluster-store' }), prefetch, syncTimeoutMs: opts.informerSyncTimeoutMs });
  try {
    return await contextAround(store, opts);
  } catch (err) {
    await store.close();
    throw err;
  }
}
