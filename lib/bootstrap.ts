import { join } from 'node:path';
import { findResource, RESOURCES } from './api/resources.ts';
import { DEFAULT_CONFIG, type AppContext, type ServerConfig } from './context.ts';
import type { Logger } from './log.ts';
import { ShutdownSignal } from './shutdown.ts';
import { EmbeddedStore } from './store/embedded.ts';
import type { Store } from './store/types.ts';
import { Engine } from './engine/engine.ts';
import { RevisionOperations } from './engine/operations.ts';
import { openGitRepository } from './git/repository.ts';

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
}

/** The embedded (dev) wiring: an on-disk store under the data directory. */
export async function createDevContext(opts: DevContextOptions): Promise<AppContext> {
  const store = await EmbeddedStore.open(join(opts.dataDir, 'store'), RESOURCES, { durable: opts.durable });
  await ensureNamespaces(store);
  const engine = new Engine({ store, log: opts.log, openGit: openGitRepository, dataDir: opts.dataDir, gitTimeoutMs: opts.gitTimeoutMs });
  await engine.start();
  return {
    store,
    log: opts.log,
    config: { ...DEFAULT_CONFIG, ...opts.config },
    shutdown: new ShutdownSignal(),
    engine,
    ops: new RevisionOperations(engine),
  };
}
