import type { Repository, RepositoryStatus } from '../api/repository.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/types.ts';
import { findResource } from '../api/resources.ts';
import { nowTimestamp } from '../util.ts';
import { StatusError } from '../errors.ts';

const REPOSITORIES = findResource('config.porch.kpt.dev', 'v1alpha1', 'repositories')!;

export interface SyncOutcome {
  ready: boolean;
  reason: 'Ready' | 'Error' | 'Reconciling';
  message: string;
  packageCount?: number;
  gitCommitHash?: string;
  lastFullSyncTime?: Date;
  nextFullSyncTime?: Date;
}

/** Writes a Repository's status after a sync; retries on conflict since users edit the spec meanwhile. */
export class RepositoryStatusWriter {
  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  async write(repo: Repository, outcome: SyncOutcome): Promise<void> {
    const ns = repo.metadata.namespace;
    const name = repo.metadata.name ?? '';
    for (let attempt = 0; attempt < 5; attempt++) {
      const cur = (await this.store.get(REPOSITORIES, ns, name)) as Repository | undefined;
      if (!cur) return;
      const prev = cur.status?.conditions?.find((c) => c.type === 'Ready');
      const statusValue = outcome.ready ? 'True' : 'False';
      const message =
        outcome.ready && outcome.nextFullSyncTime ? `${outcome.message} (next sync scheduled at: ${nowTimestamp(outcome.nextFullSyncTime)})` : outcome.message;
      const status: RepositoryStatus = {
        ...(cur.status ?? {}),
        conditions: [
          {
            type: 'Ready',
            status: statusValue,
            reason: outcome.reason,
            message,
            lastTransitionTime: prev && prev.status === statusValue ? (prev.lastTransitionTime ?? nowTimestamp()) : nowTimestamp(),
            observedGeneration: cur.metadata.generation,
          },
        ],
        observedGeneration: cur.metadata.generation,
      };
      if (outcome.packageCount !== undefined) status.packageCount = outcome.packageCount;
      if (outcome.gitCommitHash !== undefined) status.gitCommitHash = outcome.gitCommitHash;
      if (outcome.lastFullSyncTime) status.lastFullSyncTime = nowTimestamp(outcome.lastFullSyncTime);
      if (outcome.nextFullSyncTime) status.nextFullSyncTime = nowTimestamp(outcome.nextFullSyncTime);
      try {
        await this.store.update(REPOSITORIES, { ...cur, status }, { subresource: 'status' });
        return;
      } catch (err) {
        if (err instanceof StatusError && err.code === 409) continue;
        if (err instanceof StatusError && err.code === 404) return;
        this.log.warn('could not write repository status', { namespace: ns, repository: name, error: String(err) });
        return;
      }
    }
  }
}
