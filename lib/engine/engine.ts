import { join } from 'node:path';
import type { KubeObject } from '../api/meta.ts';
import type { PackageRevision, PorchPackage } from '../api/porch.ts';
import { PORCH_GROUP, REPOSITORY_LABEL } from '../api/porch.ts';
import type { Repository } from '../api/repository.ts';
import { KeyOrderedView } from '../api/order.ts';
import { findResource } from '../api/resources.ts';
import { RepositoryCache, type ChangeType, type GitState } from '../cache/repository-cache.ts';
import type { GitRepository, GitRepositoryOptions } from '../git/types.ts';
import { errors, errMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/types.ts';
import { KeyedMutex } from '../util.ts';
import { WatchHub } from '../watch/hub.ts';
import type { Unsubscribe } from '../watch/types.ts';
import { resolveGitAuth } from './credentials.ts';
import { checkLocalRepository } from '../local-path.ts';
import { buildPackage, buildPackageRevision } from './objects.ts';
import { RvClock } from './rv-clock.ts';
import { forEachBounded, withTimeout } from '../sync/limits.ts';

export const REPOSITORIES = findResource('config.porch.kpt.dev', 'v1alpha1', 'repositories')!;
export const PACKAGEREVS = findResource('config.porch.kpt.dev', 'v1alpha1', 'packagerevs')!;
import { PR_GR } from './gr.ts';
import { defaultSecurityPolicy, type SecurityPolicy } from '../security-policy.ts';

export interface EngineDeps {
  store: Store;
  log: Logger;
  openGit: (opts: GitRepositoryOptions) => GitRepository;
  /** Where mirrors of remote repositories are kept. */
  dataDir: string;
  gitTimeoutMs?: number;
  /** Repositories loaded from disk at once at start-up (default 4). */
  startupConcurrency?: number;
  /** Loading one repository's local state at start-up taking longer is given up: its first sync fills it (default 2 min). */
  localLoadTimeoutMs?: number;
  /** Local paths, credentials and sizes (dev-mode defaults when absent). */
  security?: SecurityPolicy;
}

const DEFAULT_LOCAL_LOAD_TIMEOUT_MS = 120_000;

/** A repository's cache, or why its Repository could not be opened. */
export type CacheLookup = { cache: RepositoryCache } | { repo: Repository; error: string };

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
 * hubs every change goes through (an API write and a change found by a sync look the same). It
 * opens and closes caches as Repositories come and go; when they sync is lib/sync's business.
 */
export class Engine {
  readonly revisionHub = new WatchHub<PackageRevision>();
  readonly packageHub = new WatchHub<PorchPackage>();
  readonly rv = new RvClock();
  readonly packageLocks = new KeyedMutex();
  private readonly repos = new Map<string, RepositoryCache>();
  private readonly revisionOrder = new KeyOrderedView(() => [...this.repos.values()].flatMap((c) => [...c.revisions()]));
  private readonly packageOrder = new KeyOrderedView(() => [...this.repos.values()].flatMap((c) => [...c.allPackages()]));
  private readonly identities = new Map<string, string>();
  /** PackageRevs by namespace, then name: looked up once per revision built, so without a key string each time. */
  private readonly metas = new Map<string, Map<string, KubeObject>>();
  private readonly repoLocks = new KeyedMutex();
  private unwatch: Unsubscribe[] = [];
  /** Background repository work started by watch events; stop() waits for it. */
  private readonly inflight = new Set<Promise<unknown>>();
  /** Why a Repository could not be opened at all (bad secret, OCI…). */
  private readonly openErrors = new Map<string, string>();
  /** Settles (rejects) at stop(): loading local state is abandoned instead of holding up shutdown. */
  private readonly stopping: Promise<never>;
  private abandon: (err: Error) => void = () => undefined;

  /** What tenants may make the server reach and hold: fixed at start, from the flags. */
  readonly security: SecurityPolicy;
  private gitStateListener: ((cache: RepositoryCache, state: GitState) => void) | undefined;

  constructor(readonly deps: EngineDeps) {
    this.security = deps.security ?? defaultSecurityPolicy(deps.dataDir);
    this.revisionHub.resetFloor(this.rv.current());
    this.packageHub.resetFloor(this.rv.current());
    this.stopping = new Promise<never>((_, reject) => (this.abandon = reject));
    this.stopping.catch(() => undefined);
  }

  /** Told when a write changes what a repository's status reports of git (the sync runner keeps status). */
  onGitStateChanged(listener: (cache: RepositoryCache, state: GitState) => void): void {
    this.gitStateListener = listener;
  }

  get store(): Store {
    return this.deps.store;
  }

  get log(): Logger {
    return this.deps.log;
  }

  /**
   * Load metadata and every Repository's cache from what is on disk (a few at a time), so the API
   * answers from the last known state as soon as this returns; then follow changes to both.
   */
  async start(): Promise<void> {
    const revs = await this.store.list(PACKAGEREVS);
    for (const m of revs.items) this.setMeta(m.metadata.namespace ?? '', m.metadata.name ?? '', m);
    this.unwatch.push(
      this.store.watch(PACKAGEREVS, {
        resourceVersion: revs.resourceVersion,
        send: (ev) => {
          if (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED') this.applyMeta(ev.object, ev.type === 'DELETED');
        },
      }),
    );
    const listed = await this.store.list(REPOSITORIES);
    const initial = listed.items as Repository[];
    const limit = this.deps.startupConcurrency ?? 4;
    await forEachBounded(initial, limit, (repo) => {
      const k = key(repo.metadata.namespace ?? 'default', repo.metadata.name ?? '');
      return this.repoLocks.run(k, async () => {
        if (this.repos.has(k)) return;
        const cache = await this.openCache(repo);
        if (cache) await this.preload(cache);
      });
    });
    // From the list's resourceVersion: changes made while the caches loaded are not lost.
    this.unwatch.push(
      this.store.watch(REPOSITORIES, {
        resourceVersion: listed.resourceVersion,
        send: (ev) => {
          const repo = ev.object as Repository;
          if (ev.type === 'DELETED') this.track(this.removeRepository(repo.metadata.namespace ?? '', repo.metadata.name ?? ''));
          else if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.track(this.applyRepository(repo));
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
    this.abandon(new Error('the server is stopping'));
    for (const u of this.unwatch) u();
    this.unwatch = [];
    await Promise.all([...this.inflight]);
    await Promise.all([...this.repos.values()].map((r) => r.release().catch(() => undefined)));
  }

  // ---- metadata (PackageRev) ----

  meta(namespace: string, name: string): KubeObject | undefined {
    return this.metas.get(namespace)?.get(name);
  }

  private setMeta(namespace: string, name: string, obj: KubeObject): void {
    let names = this.metas.get(namespace);
    if (!names) this.metas.set(namespace, (names = new Map()));
    names.set(name, obj);
  }

  /** Take in a PackageRev change; idempotent, so the write path and the store watch may both call it. */
  applyMeta(obj: KubeObject, deleted = false): void {
    const ns = obj.metadata.namespace ?? '';
    const name = obj.metadata.name ?? '';
    const cur = this.meta(ns, name);
    if (deleted) {
      if (!cur) return;
      const names = this.metas.get(ns);
      names?.delete(name);
      if (names?.size === 0) this.metas.delete(ns);
    } else {
      if (cur && Number(cur.metadata.resourceVersion) >= Number(obj.metadata.resourceVersion)) return;
      this.setMeta(ns, name, obj);
    }
    const repo = obj.metadata.labels?.[REPOSITORY_LABEL];
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

  /**
   * Take in a created or changed Repository: open it (again, after a git-relevant change); otherwise
   * every revision shows the new object. Syncing it is the sync scheduler's business.
   */
  async applyRepository(repo: Repository): Promise<void> {
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
      await this.openCache(repo);
    });
  }

  /**
   * The cache of a Repository, opened now if it is not yet (waiting for a change of it being taken
   * in); undefined when there is no such Repository.
   */
  async cacheFor(namespace: string, name: string): Promise<CacheLookup | undefined> {
    const k = key(namespace, name);
    return this.repoLocks.run(k, async () => {
      const cache = this.repos.get(k);
      if (cache) return { cache };
      const repo = (await this.store.get(REPOSITORIES, namespace, name)) as Repository | undefined;
      if (!repo) return undefined;
      const opened = await this.openCache(repo);
      return opened ? { cache: opened } : { repo, error: this.openErrors.get(k) ?? 'the repository could not be opened' };
    });
  }

  /** Make (and register) the cache of a Repository; on failure undefined, and the reason is kept for the sync to report. */
  private async openCache(repo: Repository): Promise<RepositoryCache | undefined> {
    const ns = repo.metadata.namespace ?? 'default';
    const name = repo.metadata.name ?? '';
    const k = key(ns, name);
    const fail = (message: string) => {
      this.openErrors.set(k, message);
      return undefined;
    };
    if (repo.spec.type === 'oci') return fail('OCI repositories are not supported by this server');
    if (!repo.spec.git) return fail('spec.git is required for a git repository');
    const git = repo.spec.git;
    let cache: RepositoryCache;
    try {
      // Admission checks these for the dev store; a Repository written straight to kube-apiserver (cluster mode) is held to them here.
      const local = await checkLocalRepository(git.repo, this.security.localPaths);
      const creds = await resolveGitAuth(this.store, repo, { allowInsecure: this.security.allowInsecureGitCredentials });
      const opened = this.deps.openGit({
        // The checked real path: a symlink swapped afterwards cannot redirect it.
        url: local ?? git.repo,
        branch: git.branch || 'main',
        directory: git.directory ?? '',
        createBranch: git.createBranch === true,
        auth: creds.auth,
        caBundle: creds.caBundle,
        workDir: this.workDir(ns, name),
        timeoutMs: this.deps.gitTimeoutMs,
      });
      cache = new RepositoryCache(ns, name, repo, opened, {
        meta: (n, rn) => this.meta(n, rn),
        nextRv: () => this.rv.next(),
        revisionChanged: (t, o, p) => this.emitRevision(t, o, p),
        packageChanged: (t, o, p) => this.emitPackage(t, o, p),
        buildRevision: buildPackageRevision,
        buildPackage,
        gitStateChanged: (state) => this.gitStateListener?.(cache, state),
      });
    } catch (err) {
      return fail(errMessage(err));
    }
    this.openErrors.delete(k);
    this.repos.set(k, cache);
    this.identities.set(k, gitIdentity(repo));
    return cache;
  }

  private workDir(namespace: string, name: string): string {
    return join(this.deps.dataDir, 'git', namespace, name);
  }

  /**
   * Fill a cache from local git state only (a local repository, or the mirror a remote one left on
   * disk), so a restart serves the last known revisions at once. A remote repository never fetched has
   * nothing to serve: it stays not-loaded until its first sync.
   */
  private async preload(cache: RepositoryCache): Promise<void> {
    const url = cache.repo.spec.git?.repo ?? '';
    const local = url.startsWith('/') || url.startsWith('file://');
    if (!cache.hasLocalState()) return;
    try {
      await withTimeout(Promise.race([cache.refresh(false), this.stopping]), this.deps.localLoadTimeoutMs ?? DEFAULT_LOCAL_LOAD_TIMEOUT_MS);
      // A mirror that never received the branch has nothing to serve: writes wait for the first sync.
      if (!local && !cache.branchCommit) cache.loaded = false;
    } catch (err) {
      this.log.warn('could not load repository from local state', { namespace: cache.namespace, repository: cache.name, error: errMessage(err) });
    }
  }

  async removeRepository(namespace: string, name: string): Promise<void> {
    const k = key(namespace, name);
    await this.repoLocks.run(k, async () => {
      const cache = this.repos.get(k);
      this.repos.delete(k);
      this.identities.delete(k);
      this.openErrors.delete(k);
      if (cache) await cache.close();
      // Metadata of revisions that no longer exist anywhere goes with the repository (a PackageRev
      // with user finalizers is marked for deletion and waits for them).
      const { items } = await this.store.list(PACKAGEREVS, {
        namespace,
        labelSelector: [{ key: REPOSITORY_LABEL, op: 'eq', value: name }],
      });
      for (const m of items) await this.store.delete(PACKAGEREVS, namespace, m.metadata.name ?? '').catch(() => undefined);
    });
  }

  // ---- events ----

  private emitRevision(type: ChangeType, obj: PackageRevision, prev?: PackageRevision): void {
    this.revisionOrder.changed();
    this.revisionHub.publish({ type, object: obj, prev, rv: Number(obj.metadata.resourceVersion) });
  }

  private emitPackage(type: ChangeType, obj: PorchPackage, prev?: PorchPackage): void {
    this.packageOrder.changed();
    this.packageHub.publish({ type, object: obj, prev, rv: Number(obj.metadata.resourceVersion) });
  }

  // ---- queries ----

  /** In namespace/name order, as kube-apiserver lists. */
  listRevisions(namespace: string | undefined, match: (pr: PackageRevision) => boolean): PackageRevision[] {
    return this.revisionOrder.items().filter((pr) => (namespace === undefined || pr.metadata.namespace === namespace) && match(pr));
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

  /** In namespace/name order, as kube-apiserver lists. */
  listPackages(namespace: string | undefined, match: (p: PorchPackage) => boolean): PorchPackage[] {
    return this.packageOrder.items().filter((p) => (namespace === undefined || p.metadata.namespace === namespace) && match(p));
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
