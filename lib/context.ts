import type { Store } from './store/types.ts';
import type { Logger } from './log.ts';
import type { ShutdownSignal } from './shutdown.ts';
import type { Engine } from './engine/engine.ts';
import type { RevisionOperations } from './engine/operations.ts';

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
  shutdown: ShutdownSignal;
  engine: Engine;
  ops: RevisionOperations;
}

export const DEFAULT_CONFIG: ServerConfig = {
  maxBodyBytes: 8 * 1024 * 1024,
};
