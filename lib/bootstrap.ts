import { join } from 'node:path';
import { findResource, RESOURCES } from './api/resources.ts';
import { DEFAULT_CONFIG, type AppContext, type ServerConfig } from './context.ts';
import type { Logger } from './log.ts';
import { ShutdownSignal } from './shutdown.ts';
import { EmbeddedStore } from './store/embedded.ts';
import type { Store } from './store/types.ts';
import { ClusterStore } from './store/cluster.ts';
import type { KubeClient } from './store/kube-client.ts';
import { Engine, PACKAGEREVS, REPOSITORIES, type EngineDeps } from './engine/engine.ts';
import { RevisionOperations } from './engine/operations.ts';
import { openPorchRepository } from './git/porch-repository.ts';

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
  /** Repository sync bounds (engine defaults when absent). */
  sync?: Pick<EngineDeps, 'syncTimeoutMs' | 'reconcilingAfterMs' | 'staleDraftAgeMs' | 'pruneGraceMs'>;
  /**
   * Serve the store alone: the engine never starts, so no Repository is opened or synced. The dev
   * server then stands in for kube-apiserver (CRDs, Secrets, Namespaces) in front of a cluster-mode server.
   */
  storeOnly?: boolean;
}

/** The same engine and operations around whichever store the mode brings. */
async function contextAround(store: Store, opts: Omit<DevContextOptions, 'durable'>): Promise<AppContext> {
  const engine = new Engine({ store, log: opts.log, openGit: openPorchRepository, dataDir: opts.dataDir, gitTimeoutMs: opts.gitTimeoutMs, ...opts.sync });
  if (!opts.storeOnly) await engine.start();
  return {
    store,
    log: opts.log,
    config: { ...DEFAULT_CONFIG, ...opts.config },
    shutdown: new ShutdownSignal(),
    engine,
    ops: new RevisionOperations(engine),
  };
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
  /** How long start-up waits for the first list of Repositories, PackageRevs and Namespaces. */
  syncTimeoutMs?: number;
}

/**
 * The cluster wiring: Repository, PackageRev… live in kube-apiserver (ClusterStore); the data
 * directory only keeps git mirrors. Everything above the store is the same as in dev mode.
 */
export async function createClusterContext(opts: ClusterContextOptions): Promise<AppContext> {
  const prefetch = [REPOSITORIES, PACKAGEREVS, findResource('', 'v1', 'namespaces')!];
  const store = await ClusterStore.open({ client: opts.client, log: opts.log.child({ component: 'cluster-store' }), prefetch, syncTimeoutMs: opts.syncTimeoutMs });
  try {
    return await contextAround(store, opts);
  } catch (err) {
    await store.close();
    throw err;
  }
}
