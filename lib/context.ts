import type { Store } from './store/types.ts';
import type { Logger } from './log.ts';
import type { ShutdownSignal } from './shutdown.ts';
import type { Engine } from './engine/engine.ts';
import type { RevisionOperations } from './engine/operations.ts';
import type { SyncRunner } from './sync/runner.ts';
import type { SyncScheduler } from './sync/scheduler.ts';
import type { SecurityPolicy } from './security-policy.ts';

export interface ServerConfig {
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
}

/**
 * What every handler gets: the shared services of the process. Built once at start; tests build one
 * around a temporary store.
 */
export interface AppContext {
  store: Store;
  log: Logger;
  config: ServerConfig;
  /** Local paths, credentials and sizes tenants are held to (admission reads it; the engine has the same). */
  security: SecurityPolicy;
  shutdown: ShutdownSignal;
  engine: Engine;
  ops: RevisionOperations;
  /** The one runner of repository syncs, behind the sync-repositories handler. */
  sync: SyncRunner;
  /** What fires syncs; absent when nothing syncs (a store-only server). */
  scheduler?: SyncScheduler;
}

export const DEFAULT_CONFIG: ServerConfig = {
  maxBodyBytes: 8 * 1024 * 1024,
};
