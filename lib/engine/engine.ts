import { join } from 'node:path';
import type { KubeObject } from '../api/meta.ts';
import type { PackageRevision, PorchPackage } from '../api/porch.ts';
import { PORCH_GROUP } from '../api/porch.ts';
import type { Repository } from '../api/repository.ts';
import { findResource } from '../api/resources.ts';
import { RepositoryCache, type ChangeType } from '../cache/repository-cache.ts';
import { errors } from '../errors.ts';
import type { GitRepository, GitRepositoryOptions } from '../git/types.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/types.ts';
import { KeyedMutex } from '../util.ts';
import { WatchHub } from '../watch/hub.ts';
import type { Unsubscribe } from '../watch/types.ts';
import { resolveGitAuth } from './credentials.ts';
import { RvClock } from './rv-clock.ts';
import { RepositoryStatusWriter } from './repository-status.ts';

export const REPOSITORIES = findResource('config.porch.kpt.dev', 'v1alpha1', 'repositories')!;
export const PACKAGEREVS = findResource('config.porch.kpt.dev', 'v1alpha1', 'packagerevs')!;
export { PR_GR } from './gr.ts';
import { PR_GR } from './gr.ts';

export interface EngineDeps {
  store: Store;
  log: Logger;
  openGit: (opts: GitRepositoryOptions) => GitRepository;
  /** Where mirrors of remote repositories are kept. */
  dataDir: string;
  gitTimeoutMs?: number;
  /** Repositories opened at once at start-up. */
  startupConcurrency?: number;
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The git-relevant part of a Repository: when it changes the repository is opened anew. */
function gitIdentity(repo: Repository): string {
  const g = repo.spec.git;
  return JSON.stringify([repo.spec.type, g?.repo, g?.branch, g?.directory, g?.createBranch, g?.secretRef?.name]);
}

/**
 * The CaD engine's state: one cache per Repository, the PackageRevs carrying metadata, and the watch
 * hubs every change goes through (an API write and a change found by a sync look the same).
 */
export class Engine {
  readonly revisionHub = new WatchHub<PackageRevision>();
  readonly packageHub = new WatchHub<PorchPackage>();
  readonly rv = new RvClock();
  readonly packageLocks = new KeyedMutex();
  private readonly repos = new Map<string, RepositoryCache>();
  private readonly identities = new Map<string, string>();
  private readonly metas = new Map<string, KubeObject>();
  private readonly repoLocks = new KeyedMutex();
  private readonly status: RepositoryStatusWriter;
  private unwatch: Unsubscribe[] = [];
  /** Background repository work started by watch events; stop() waits for it. */
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(readonly deps: EngineDeps) {
    this.status = new RepositoryStatusWriter(deps.store, deps.log);
    this.revisionHub.resetFloor(this.rv.current());
    this.packageHub.resetFloor(this.rv.current());
  }

  get store(): Store {
    return this.deps.store;
  }

  get log(): Logger {
    return this.deps.log;
  }

  /** Load metadata and open every Repository (in parallel, bounded); then follow changes to both. */
  async start(): Promise<void> {
    const { items: revs } = await this.store.list(PACKAGEREVS);
    for (const m of revs) this.metas.set(key(m.metadata.namespace ?? '', m.metadata.name ?? ''), m);
    this.unwatch.push(
      this.store.watch(PACKAGEREVS, {
        resourceVersion: this.store.currentResourceVersion(),
        send: (ev) => {
          if (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED') this.applyMeta(ev.object, ev.type === 'DELETED');
        },
      }),
    );
    const { items } = await this.store.list(REPOSITORIES);
    const limit = this.deps.startupConcurrency ?? 8;
    const queue = [...items];
    await Promise.all(
      Array.from({ length: Math.min(limit, queue.length) }, async () => {
        for (let r = queue.shift(); r; r = queue.shift()) await this.upsertRepository(r as Repository).catch(() => undefined);
      }),
    );
    this.unwatch.push(
      this.store.watch(REPOSITORIES, {
        resourceVersion: this.store.currentResourceVersion(),
        send: (ev) => {
          const repo = ev.object as Repository;
          if (ev.type === 'DELETED') this.track(this.removeRepository(repo.metadata.namespace ?? '', repo.metadata.name ?? ''));
          else if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.track(this.upsertRepository(repo));
        },
      }),
    );
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch((err: unknown) => this.log.warn('repository update failed', { error: errMessage(err) }));
    this.inflight.add(q);
    void q.finally(() => this.inflight.delete(q));
  }

  async stop(): Promise<void> {
    for (const u of this.unwatch) u();
    this.unwatch = [];
    await Promise.all([...this.inflight]);
    await Promise.all([...this.repos.values()].map((r) => r.git.close().catch(() => undefined)));
  }

  // ---- metadata (PackageRev) ----

  meta(namespace: string, name: string): KubeObject | undefined {
    return this.metas.get(key(namespace, name));
  }

  /** Take in a PackageRev change; idempotent, so the write path and the store watch may both call it. */
  applyMeta(obj: KubeObject, deleted = false): void {
    const ns = obj.metadata.namespace ?? '';
    const name = obj.metadata.name ?? '';
    const k = key(ns, name);
    const cur = this.metas.get(k);
    if (deleted) {
      if (!cur) return;
      this.metas.delete(k);
    } else {
      if (cur && Number(cur.metadata.resourceVersion) >= Number(obj.metadata.resourceVersion)) return;
      this.metas.set(k, obj);
    }
    const repo = obj.metadata.labels?.['internal.porch.kpt.dev/repository'];
    const candidates = repo ? [this.repos.get(key(ns, repo))] : [...this.repos.values()].filter((r) => r.namespace === ns);
    for (const c of candidates) c?.metadataChanged(name);
  }

  // ---- repositories ----

  repository(namespace: string, name: string): RepositoryCache | undefined {
    return this.repos.get(key(namespace, name));
  }

  repositories(namespace?: string): RepositoryCache[] {
    return [...this.repos.values()].filter((r) => namespace === undefined || r.namespace === namespace);
  }

  /** Open (or re-open after a git-relevant change) a Repository and sync it. */
  async upsertRepository(repo: Repository): Promise<void> {
    const ns = repo.metadata.namespace ?? 'default';
    const name = repo.metadata.name ?? '';
    const k = key(ns, name);
    await this.repoLocks.run(k, async () => {
      const existing = this.repos.get(k);
      if (existing && this.identities.get(k) === gitIdentity(repo)) {
        existing.setRepository(repo);
        return;
      }
      if (existing) {
        this.repos.delete(k);
        await existing.close();
      }
      if (repo.spec.type === 'oci') {
        await this.status.write(repo, { ready: false, reason: 'Error', message: 'OCI repositories are not supported by this server' });
        return;
      }
      const git = repo.spec.git!;
      let cache: RepositoryCache;
      try {
        const creds = await resolveGitAuth(this.store, repo);
        const opened = this.deps.openGit({
          url: git.repo,
          branch: git.branch || 'main',
          directory: git.directory ?? '',
          createBranch: git.createBranch === true,
          auth: creds.auth,
          caBundle: creds.caBundle,
          workDir: join(this.deps.dataDir, 'git', ns, name),
          timeoutMs: this.deps.gitTimeoutMs,
        });
        cache = new RepositoryCache(ns, name, repo, opened, {
          meta: (n, rn) => this.meta(n, rn),
          nextRv: () => this.rv.next(),
          revisionChanged: (t, o, p) => this.emitRevision(t, o, p),
          packageChanged: (t, o, p) => this.emitPackage(t, o, p),
        });
      } catch (err) {
        await this.status.write(repo, { ready: false, reason: 'Error', message: errMessage(err) });
        return;
      }
      this.repos.set(k, cache);
      this.identities.set(k, gitIdentity(repo));
      await this.syncCache(cache, true);
    });
  }

  async removeRepository(namespace: string, name: string): Promise<void> {
    const k = key(namespace, name);
    await this.repoLocks.run(k, async () => {
      const cache = this.repos.get(k);
      this.repos.delete(k);
      this.identities.delete(k);
      if (cache) await cache.close();
      // Metadata of revisions that no longer exist anywhere goes with the repository.
      const { items } = await this.store.list(PACKAGEREVS, {
        namespace,
        labelSelector: [{ key: 'internal.porch.kpt.dev/repository', op: 'eq', value: name }],
      });
      for (const m of items) await this.store.delete(PACKAGEREVS, namespace, m.metadata.name ?? '').catch(() => undefined);
    });
  }

  /** Sync one repository with its remote and record the outcome in its status. */
  async syncRepository(namespace: string, name: string): Promise<void> {
    const cache = this.repos.get(key(namespace, name));
    if (!cache) {
      const repo = (await this.store.get(REPOSITORIES, namespace, name)) as Repository | undefined;
      if (!repo) throw errors.notFound({ group: REPOSITORIES.group, resource: REPOSITORIES.plural }, name);
      await this.upsertRepository(repo);
      return;
    }
    await this.syncCache(cache, false);
  }

  private async syncCache(cache: RepositoryCache, first: boolean): Promise<void> {
    try {
      if (first) await cache.git.open();
      await cache.refresh(true);
      cache.lastError = undefined;
      cache.lastSyncTime = new Date();
      await this.status.write(cache.repo, {
        ready: true,
        reason: 'Ready',
        message: 'Repository Ready',
        packageCount: new Set([...cache.records()].map((r) => r.packagePath)).size,
        gitCommitHash: cache.branchCommit,
        lastFullSyncTime: cache.lastSyncTime,
      });
    } catch (err) {
      cache.lastError = errMessage(err);
      this.log.warn('repository sync failed', { namespace: cache.namespace, repository: cache.name, error: cache.lastError });
      await this.status.write(cache.repo, { ready: false, reason: 'Error', message: cache.lastError });
    }
  }

  // ---- events ----

  private emitRevision(type: ChangeType, obj: PackageRevision, prev?: PackageRevision): void {
    this.revisionHub.publish({ type, object: obj, prev, rv: Number(obj.metadata.resourceVersion) });
  }

  private emitPackage(type: ChangeType, obj: PorchPackage, prev?: PorchPackage): void {
    this.packageHub.publish({ type, object: obj, prev, rv: Number(obj.metadata.resourceVersion) });
  }

  // ---- queries ----

  listRevisions(namespace: string | undefined, match: (pr: PackageRevision) => boolean): PackageRevision[] {
    const out: PackageRevision[] = [];
    for (const cache of this.repos.values()) {
      if (namespace !== undefined && cache.namespace !== namespace) continue;
      for (const pr of cache.revisions()) if (match(pr)) out.push(pr);
    }
    return out;
  }

  /** Find a revision by name: the repository is the first dot-separated part of the name. */
  findRevision(namespace: string, name: string): { cache: RepositoryCache; pr: PackageRevision } | undefined {
    const repoName = name.split('.')[0];
    const cache = this.repos.get(key(namespace, repoName));
    const pr = cache?.revision(name);
    return cache && pr ? { cache, pr } : undefined;
  }

  getRevision(namespace: string, name: string): { cache: RepositoryCache; pr: PackageRevision } {
    const found = this.findRevision(namespace, name);
    if (!found) throw errors.notFound(PR_GR, name);
    return found;
  }

  listPackages(namespace: string | undefined, match: (p: PorchPackage) => boolean): PorchPackage[] {
    const out: PorchPackage[] = [];
    for (const cache of this.repos.values()) {
      if (namespace !== undefined && cache.namespace !== namespace) continue;
      for (const p of cache.allPackages()) if (match(p)) out.push(p);
    }
    return out;
  }

  getPackage(namespace: string, name: string): PorchPackage {
    const cache = this.repos.get(key(namespace, name.split('.')[0]));
    const p = cache?.package(name);
    if (!p) throw errors.notFound({ group: PORCH_GROUP, resource: 'packages' }, name);
    return p;
  }

  currentResourceVersion(): string {
    return String(this.rv.current());
  }
}

export function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
