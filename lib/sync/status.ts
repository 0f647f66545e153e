import type { Condition, Repository, RepositoryStatus } from '../api/repository.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/types.ts';
import type { StaleDraft } from './stale-drafts.ts';
import type { SkippedRef } from '../git/types.ts';
import { findResource } from '../api/resources.ts';
import { jsonEqual, KeyedMutex, nowTimestamp } from '../util.ts';
import { StatusError } from '../errors.ts';
import { redactUrls } from '../redact.ts';

const REPOSITORIES = findResource('config.porch.kpt.dev', 'v1alpha1', 'repositories')!;

const READY = 'Ready';
/** Drafts whose branches have not moved for a long time; reported, never acted on. */
const STALE_DRAFTS = 'StaleDrafts';
const STALE_NAMES_SHOWN = 5;
/** Branches and tags left out of the listing because git would refuse to check their trees out. */
const SKIPPED_REFS = 'SkippedRefs';

/** What a finished sync (or a failed attempt to open the repository) observed. */
export interface SyncOutcome {
  reason: 'Ready' | 'Error';
  /** For Ready, "Repository Ready"; the next sync time is appended as Porch does. */
  message: string;
  /** The generation of the Repository the sync worked from. */
  generation?: number;
  packageCount?: number;
  gitCommitHash?: string;
  /**
   * The repository's git state when the status is written, read under the writer's lock: an API write
   * that landed after the sync finished listing is then kept, not overwritten by the sync's older view.
   */
  currentGitState?: () => { packageCount: number; gitCommitHash: string };
  lastFullSyncTime?: Date;
  /** Absent: no sync is planned (the field is removed). */
  nextFullSyncTime?: Date;
  /** Set when this sync honoured `spec.sync.runOnceAt`. */
  observedRunOnceAt?: string;
  /** Undefined leaves the SkippedRefs condition as it is; [] removes it. */
  skippedRefs?: SkippedRef[];
  /** Undefined leaves the StaleDrafts condition as it is; [] removes it. */
  staleDrafts?: StaleDraft[];
  staleDraftAgeText?: string;
}

/**
 * Writes Repository status as Porch keeps it. Writes are skipped when nothing would change, so
 * frequent syncs of an unchanged repository cost one write each (lastFullSyncTime) and an object
 * seen twice costs none. Retries on conflict, since users edit the spec meanwhile.
 */
export class RepositoryStatusWriter {
  /** One write per repository at a time: a late "Reconciling" must never land on a finished sync's status. */
  private readonly locks = new KeyedMutex();

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  /** Ready=False, reason Reconciling: a sync is running (written only for syncs slow enough to notice). */
  async reconciling(repo: Repository, stillRunning: () => boolean): Promise<void> {
    await this.apply(repo, (cur) => ({
      ...cur,
      conditions: setCondition(cur.conditions, { type: READY, status: 'False', reason: 'Reconciling', message: 'Repository sync in progress' }, repo.metadata.generation),
    }), stillRunning);
  }

  /** What a write through the API changed (packageCount, gitCommitHash), without a sync. */
  async gitState(repo: Repository, state: { packageCount: number; gitCommitHash: string }): Promise<void> {
    await this.apply(repo, (cur) => ({ ...cur, ...state }));
  }

  async write(repo: Repository, outcome: SyncOutcome): Promise<void> {
    await this.apply(repo, (cur) => {
      const ready = outcome.reason === 'Ready';
      const text = redactUrls(outcome.message);
      const message = ready && outcome.nextFullSyncTime ? `${text} (next sync scheduled at: ${nowTimestamp(outcome.nextFullSyncTime)})` : text;
      const generation = outcome.generation ?? repo.metadata.generation;
      let conditions = setCondition(cur.conditions, { type: READY, status: ready ? 'True' : 'False', reason: outcome.reason, message }, generation);
      if (outcome.staleDrafts !== undefined) {
        const stale = outcome.staleDrafts;
        conditions = stale.length
          ? setCondition(conditions, { type: STALE_DRAFTS, status: 'True', reason: STALE_DRAFTS, message: staleMessage(stale, outcome.staleDraftAgeText) }, generation)
          : conditions.filter((c) => c.type !== STALE_DRAFTS);
      }
      if (outcome.skippedRefs !== undefined) {
        const skipped = outcome.skippedRefs;
        conditions = skipped.length
          ? setCondition(conditions, { type: SKIPPED_REFS, status: 'True', reason: 'UnsafePaths', message: skippedMessage(skipped) }, generation)
          : conditions.filter((c) => c.type !== SKIPPED_REFS);
      }
      const next: RepositoryStatus = { ...cur, conditions };
      if (generation !== undefined) next.observedGeneration = generation;
      const git = outcome.currentGitState?.() ?? outcome;
      if (git.packageCount !== undefined) next.packageCount = git.packageCount;
      if (git.gitCommitHash !== undefined) next.gitCommitHash = git.gitCommitHash;
      if (outcome.lastFullSyncTime) next.lastFullSyncTime = nowTimestamp(outcome.lastFullSyncTime);
      if (outcome.nextFullSyncTime) next.nextFullSyncTime = nowTimestamp(outcome.nextFullSyncTime);
      else delete next.nextFullSyncTime;
      if (outcome.observedRunOnceAt !== undefined) next.observedRunOnceAt = outcome.observedRunOnceAt;
      return next;
    });
  }

  private async apply(repo: Repository, change: (cur: RepositoryStatus) => RepositoryStatus, wanted: () => boolean = () => true): Promise<void> {
    const ns = repo.metadata.namespace;
    const name = repo.metadata.name ?? '';
    await this.locks.run(`${ns ?? ''}/${name}`, () => this.applyLocked(repo, change, wanted));
  }

  private async applyLocked(repo: Repository, change: (cur: RepositoryStatus) => RepositoryStatus, wanted: () => boolean): Promise<void> {
    const ns = repo.metadata.namespace;
    const name = repo.metadata.name ?? '';
    for (let attempt = 0; attempt < 5; attempt++) {
      if (!wanted()) return;
      const cur = (await this.store.get(REPOSITORIES, ns, name)) as Repository | undefined;
      // Gone, or deleted and re-created: the status would describe another object.
      if (!cur || (repo.metadata.uid && cur.metadata.uid !== repo.metadata.uid)) return;
      const before = cur.status ?? {};
      const status = change(structuredClone(before));
      if (jsonEqual(status, before)) return;
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

/** Replace (or add) the condition of `c.type`; its lastTransitionTime moves only when its status does. */
function setCondition(conditions: Condition[] | undefined, c: Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>, generation: number | undefined): Condition[] {
  const list = conditions ?? [];
  const prev = list.find((x) => x.type === c.type);
  const next: Condition = {
    ...c,
    lastTransitionTime: prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : nowTimestamp(),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  if (prev && jsonEqual({ ...prev, lastTransitionTime: next.lastTransitionTime }, next)) return list;
  return prev ? list.map((x) => (x.type === c.type ? next : x)) : [...list, next];
}

function skippedMessage(skipped: SkippedRef[]): string {
  const shown = skipped.slice(0, STALE_NAMES_SHOWN).map((s) => `${s.ref} (${s.reason})`);
  const more = skipped.length > shown.length ? ` and ${skipped.length - shown.length} more` : '';
  return `${skipped.length} ref(s) skipped, their trees hold paths git refuses to check out: ${shown.join(', ')}${more}`;
}

function staleMessage(stale: StaleDraft[], ageText: string | undefined): string {
  const shown = stale.slice(0, STALE_NAMES_SHOWN).map((d) => d.name);
  const more = stale.length > shown.length ? ` and ${stale.length - shown.length} more` : '';
  const age = ageText ? ` for more than ${ageText}` : '';
  return `${stale.length} draft package revision(s) not changed${age}: ${shown.join(', ')}${more}`;
}
