import type { KubeObject } from '../api/meta.ts';
import { LATEST_REVISION_LABEL, REPOSITORY_LABEL, type Lifecycle, type PackageRevision, type PackageRevisionResources, type Task } from '../api/porch.ts';
import { packagePathProblems } from '../api/safe-path.ts';
import type { RepositoryCache } from '../cache/repository-cache.ts';
import type { RevisionRecord } from '../cache/types.ts';
import type { UserInfo } from '../auth/user.ts';
import type { Authorizer } from '../auth/authorizer.ts';
import type { Requester } from '../auth/requester.ts';
import { errors, StatusError, type GroupResource, type StatusCause, errMessage } from '../errors.ts';
import { NO_ORIGINS, type PackageContents } from '../git/file-origin.ts';
import { GitConflictError, GitLockedError, GitUnavailableError, type CommitAuthor } from '../git/types.ts';
import { jsonEqual } from '../util.ts';
import { PACKAGEREVS, type Engine } from './engine.ts';
import { PR_GR, PRR_GR } from './gr.ts';
import { initPackage, KptfileError, kptfileProblem, updateKptfile, withPackageMetadata, type PackageMetadata } from './kptfile.ts';
import { checkApprovalTransition, checkUpdateTransition } from './lifecycle.ts';
import { nameCauses, packageRevisionName, revisionNameForErrors } from '../api/names.ts';
import { buildResources } from './objects.ts';
import { cloneResources } from './tasks/clone.ts';
import { upgradeResources } from './tasks/upgrade.ts';
import { checkPackageSize } from '../package-size.ts';
import { DraftRenderer, PUSH_ON_RENDER_FAILURE, type RenderedContents, type RenderStatus } from './render-step.ts';
import { RenderStatusMemory } from './render-status.ts';

/** Porch records content changes to a draft (resources, Kptfile from the spec) as a render task. */
const RENDER = { type: 'render' };
const INVALID = (name: string, causes: StatusCause[]) => errors.invalid('PackageRevision', 'porch.kpt.dev', name, causes);

function author(cache: RepositoryCache, user: UserInfo): CommitAuthor {
  const g = cache.repo.spec.git;
  if (g?.author || g?.email) return { name: g.author || g.email || user.username, email: g.email ?? '' };
  return { name: user.username, email: user.username.includes('@') ? user.username : '' };
}

/** Git failures become Status errors a client can act on. */
async function git<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StatusError) throw err;
    if (err instanceof GitConflictError)
      throw errors.conflict(PR_GR, name, `the package revision was changed in git concurrently; retry with the latest version (${err.message})`);
    // Retry-After 1: kubectl retries up to ten times, so a blip is ridden out and an outage reported in ~10 s.
    if (err instanceof GitUnavailableError) throw errors.unavailable(`git repository unavailable: ${err.message}`, 1);
    throw errors.internal(`git operation failed: ${errMessage(err)}`);
  }
}

function userMetadata(meta: PackageRevision['metadata'] | KubeObject['metadata']) {
  const labels = { ...(meta.labels ?? {}) };
  delete labels[LATEST_REVISION_LABEL];
  return {
    labels,
    annotations: { ...(meta.annotations ?? {}) },
    finalizers: [...(meta.finalizers ?? [])],
    ownerReferences: structuredClone(meta.ownerReferences ?? []),
  };
}

interface Preconditions {
  resourceVersion?: string;
  uid?: string;
}

/** A dry run is checked and computed as the write would be, answered, and nothing is written. */
export interface WriteOptions {
  dryRun?: boolean;
  /** The authorizer that admitted the request: asked whether the requester may read a Secret the write would use. */
  authorizer?: Authorizer;
}

/**
 * A write's preconditions against the revision as it is now. An update with a stale resourceVersion
 * gets Kubernetes' "object has been modified"; a delete gets its "Precondition failed" wording.
 */
function checkPreconditions(gr: GroupResource, name: string, cur: PackageRevision, given: Preconditions, verb: 'update' | 'delete'): void {
  const failed = (field: 'ResourceVersion' | 'UID', want: string, have: string | undefined) =>
    verb === 'update' && field === 'ResourceVersion'
      ? errors.staleResourceVersion(gr, name)
      : errors.conflict(gr, name, `Precondition failed: ${field} in precondition: ${want}, ${field} in object meta: ${have}`);
  if (given.resourceVersion && given.resourceVersion !== cur.metadata.resourceVersion) throw failed('ResourceVersion', given.resourceVersion, cur.metadata.resourceVersion);
  if (given.uid && given.uid !== cur.metadata.uid) throw failed('UID', given.uid, cur.metadata.uid);
}

/** A revision as a write finds it once it holds the package's lock. */
interface Current {
  cache: RepositoryCache;
  cur: PackageRevision;
  rec: RevisionRecord;
}

/**
 * The CaD operations on package revisions. Every write to one package is serialised (per repository
 * and package path); a stale resourceVersion is a 409 and a fresh one waits its turn.
 */
export class RevisionOperations {
  private readonly renderStatuses = new RenderStatusMemory();

  constructor(
    private readonly engine: Engine,
    /** Every change of a draft's contents goes through it between "contents changed" and "write". */
    private readonly renderer = new DraftRenderer(),
  ) {}

  private lockKey(cache: RepositoryCache, pkg: string): string {
    return `${cache.namespace}/${cache.name}/${pkg}`;
  }

  private requireRepository(namespace: string, repository: string | undefined, name: string): RepositoryCache {
    if (!repository) throw INVALID(name, [{ reason: 'FieldValueRequired', field: 'spec.repository', message: 'Required value' }]);
    const cache = this.engine.repository(namespace, repository);
    if (!cache) throw INVALID(name, [{ reason: 'FieldValueNotFound', field: 'spec.repository', message: `Not found: repository "${repository}" in namespace "${namespace}"` }]);
    if (!cache.loaded) throw errors.unavailable(`repository "${repository}" is not ready: ${cache.lastError ?? 'still loading'}`, 1);
    return cache;
  }

  private async saveMeta(cache: RepositoryCache, name: string, wanted: ReturnType<typeof userMetadata>, deleting = false): Promise<void> {
    const store = this.engine.store;
    const cur = await store.get(PACKAGEREVS, cache.namespace, name);
    const labels = { ...wanted.labels, [REPOSITORY_LABEL]: cache.name };
    const meta = {
      name,
      namespace: cache.namespace,
      labels,
      annotations: wanted.annotations,
      finalizers: wanted.finalizers,
      ownerReferences: wanted.ownerReferences,
    };
    const dryRun = cache.isPlanned;
    let saved: KubeObject;
    if (!cur) {
      if (deleting) return;
      saved = await store.create(PACKAGEREVS, { apiVersion: '', kind: 'PackageRev', metadata: meta, spec: {}, status: {} }, { dryRun });
    } else {
      const next = { ...cur, metadata: { ...cur.metadata, ...meta } };
      if (jsonEqual(next.metadata, cur.metadata)) return;
      saved = await store.update(PACKAGEREVS, next, { dryRun });
    }
    this.tookMeta(cache, name, saved);
  }

  /** One info line per operation that wrote something (a dry run wrote nothing: none). */
  private logged(cache: RepositoryCache, msg: string, name: string, user: UserInfo | undefined, fields: Record<string, unknown> = {}): void {
    if (cache.isPlanned) return;
    this.engine.log.info(msg, { namespace: cache.namespace, repository: cache.name, packageRevision: name, user: user?.username, ...fields });
  }

  /** A PackageRev written (undefined: gone): the engine takes it in; a dry run's copy only shows it. */
  private tookMeta(cache: RepositoryCache, name: string, meta: KubeObject | undefined): void {
    if (cache.isPlanned) cache.planMeta(name, meta);
    else if (meta) this.engine.applyMeta(meta);
  }

  /**
   * The opening of every write to an existing revision: take its package's lock, read the revision
   * as it is now (another write may have gone first) and check the caller's preconditions. A dry run
   * goes on with a copy of the repository's view whose writes are planned, not made (the one place a
   * dry run differs): everything up to the write itself runs as it would.
   */
  private async withRevision<T>(
    namespace: string,
    name: string,
    gr: GroupResource,
    given: Preconditions,
    verb: 'update' | 'delete',
    opts: WriteOptions,
    fn: (current: Current) => Promise<T>,
  ): Promise<T> {
    const found = this.engine.findRevision(namespace, name);
    const rec0 = found?.cache.record(name);
    if (!found || !rec0) throw errors.notFound(gr, name);
    return this.engine.packageLocks.run(this.lockKey(found.cache, rec0.packagePath), async () => {
      const cache = opts.dryRun ? found.cache.planned() : found.cache;
      const cur = cache.revision(name);
      const rec = cache.record(name);
      if (!cur || !rec) throw errors.notFound(gr, name);
      checkPreconditions(gr, name, cur, given, verb);
      return fn({ cache, cur, rec });
    });
  }

  // ---- create ----

  async create(namespace: string, input: PackageRevision, user: UserInfo, opts: WriteOptions = {}): Promise<PackageRevision> {
    const spec = input.spec ?? {};
    const pkg = spec.packageName ?? '';
    const ws = spec.workspaceName ?? '';
    const causes: StatusCause[] = [];
    if (!pkg) causes.push({ reason: 'FieldValueRequired', field: 'spec.packageName', message: 'Required value' });
    if (!ws) causes.push({ reason: 'FieldValueRequired', field: 'spec.workspaceName', message: 'Required value' });
    if (spec.lifecycle && spec.lifecycle !== 'Draft')
      causes.push({ field: 'spec.lifecycle', message: `Unsupported value: "${spec.lifecycle}": a new package revision must be a Draft` });
    if (spec.revision) causes.push({ field: 'spec.revision', message: 'Forbidden: the revision is assigned when the package revision is published' });
    const tasks = spec.tasks ?? [];
    if (tasks.length > 1) causes.push({ field: 'spec.tasks', message: 'Too many: at most one task may be given on create' });
    if (input.metadata.labels?.[LATEST_REVISION_LABEL] !== undefined)
      causes.push({ reason: 'FieldValueForbidden', field: `metadata.labels[${LATEST_REVISION_LABEL}]`, message: 'Forbidden: the label is set by the server' });
    const shownAs = revisionNameForErrors(input.metadata.name, spec);
    if (causes.length) throw INVALID(shownAs, causes);
    const repository = this.requireRepository(namespace, spec.repository, shownAs);
    const nc = nameCauses(repository.name, pkg, ws);
    if (nc.length) throw INVALID(shownAs, nc);
    const name = packageRevisionName(repository.name, pkg, ws);
    const given = input.metadata.name;
    // Porch names a revision after its repository, package and workspace; a client's own name is replaced.
    if (given && given !== name && !opts.dryRun)
      this.engine.log.warn('package revision name replaced', { namespace, given, name });
    const task: Task = tasks[0] ?? { type: 'init', init: { description: `${pkg.split('/').pop()} description` } };

    return this.engine.packageLocks.run(this.lockKey(repository, pkg), async () => {
      // As in withRevision: a dry run writes into a copy of the view, planned and never made.
      const cache = opts.dryRun ? repository.planned() : repository;
      if (cache.revision(name)) throw errors.alreadyExists(PR_GR, name, `workspace "${ws}" of package "${pkg}" already exists in repository "${cache.name}"`);
      const contents = await this.taskResources(cache, name, pkg, task, { user, authorizer: opts.authorizer });
      const withMetadata = withCreateMetadata(name, contents.files, spec.packageMetadata);
      const { files: resources, renderStatus } = await this.renderer.render('PackageRevision', name, withMetadata, pushOnRenderFailure(input.metadata));
      checkPackageSize(`package revision "${name}"`, resources, this.engine.security.maxPackageBytes);
      await cache.createDraft({ packagePath: pkg, workspace: ws, resources, origins: contents.origins, task, author: author(cache, user) }).catch((err: unknown) => {
        // A lock is someone writing that ref right now (or a writer that died moments ago): retry.
        if (err instanceof GitLockedError) throw errors.conflict(PR_GR, name, `the draft branch is being written by another writer; retry (${err.message})`);
        if (err instanceof GitConflictError) throw errors.alreadyExists(PR_GR, name, `a draft of workspace "${ws}" already exists in git`);
        return git(name, () => Promise.reject(err));
      });
      const rec = cache.record(name);
      const pr = cache.revision(name);
      if (!rec || !pr) throw errors.internal(`package revision ${name} was written but could not be read back`);
      this.rememberRender(cache, name, renderStatus);
      try {
        await this.saveMeta(cache, name, userMetadata(input.metadata));
      } catch (err) {
        // Nothing may be left half-made: drop the branch we just wrote.
        await cache.remove(rec).catch(() => undefined);
        throw err;
      }
      this.logged(cache, 'package revision created', name, user, { package: pkg, workspace: ws, task: task.type });
      return cache.revision(name) ?? pr;
    });
  }

  private async taskResources(cache: RepositoryCache, name: string, pkg: string, task: Task, requester: Requester): Promise<PackageContents> {
    switch (task.type) {
      case 'init':
        return { files: initPackage(pkg.split('/').pop() ?? pkg, task.init ?? {}), origins: NO_ORIGINS };
      case 'edit': {
        const src = task.edit?.sourceRef?.name;
        if (!src) throw INVALID(name, [{ reason: 'FieldValueRequired', field: 'spec.tasks[0].edit.sourceRef.name', message: 'Required value' }]);
        const found = this.engine.findRevision(cache.namespace, src);
        const rec = found?.cache.record(src);
        if (!found || !rec) throw INVALID(name, [{ reason: 'FieldValueNotFound', field: 'spec.tasks[0].edit.sourceRef.name', message: `Not found: package revision "${src}"` }]);
        if (found.cache !== cache || rec.packagePath !== pkg)
          throw INVALID(name, [{ field: 'spec.tasks[0].edit.sourceRef.name', message: `Invalid value: "${src}": the source must be a revision of the same package in the same repository` }]);
        if (rec.lifecycle !== 'Published' && rec.lifecycle !== 'DeletionProposed')
          throw INVALID(name, [{ field: 'spec.tasks[0].edit.sourceRef.name', message: `Invalid value: "${src}": the source must be a published revision (it is ${rec.lifecycle})` }]);
        if (rec.git.kind === 'placeholder')
          throw INVALID(name, [{ field: 'spec.tasks[0].edit.sourceRef.name', message: `Invalid value: "${src}": the placeholder revision of the registered branch cannot be a source; name a published revision` }]);
        return git(name, () => found.cache.readContents(rec));
      }
      case 'clone':
        return cloneResources(this.engine, cache, name, pkg, task, requester);
      case 'upgrade':
        return upgradeResources(this.engine, cache, name, pkg, task);
      default:
        throw INVALID(name, [{ field: 'spec.tasks[0].type', message: `Unsupported value: "${task.type}": supported task types on create are init, clone, edit and upgrade` }]);
    }
  }

  // ---- update (main resource) ----

  async update(namespace: string, name: string, input: PackageRevision, user: UserInfo, opts: WriteOptions = {}): Promise<PackageRevision> {
    return this.withRevision(namespace, name, PR_GR, { resourceVersion: input.metadata.resourceVersion }, 'update', opts, async ({ cache, cur, rec }) => {
      const spec = input.spec ?? {};
      const causes: StatusCause[] = [];
      const immutable: [keyof PackageRevision['spec'], unknown, unknown][] = [
        ['packageName', spec.packageName, cur.spec.packageName],
        ['repository', spec.repository, cur.spec.repository],
        ['workspaceName', spec.workspaceName, cur.spec.workspaceName],
        ['revision', spec.revision ?? 0, cur.spec.revision ?? 0],
      ];
      for (const [f, given, have] of immutable)
        if (given !== undefined && given !== '' && given !== have) causes.push({ field: `spec.${f}`, message: 'Invalid value: field is immutable' });
      const wantLatest = input.metadata.labels?.[LATEST_REVISION_LABEL];
      if (wantLatest !== undefined && wantLatest !== cur.metadata.labels?.[LATEST_REVISION_LABEL])
        causes.push({ reason: 'FieldValueForbidden', field: `metadata.labels[${LATEST_REVISION_LABEL}]`, message: 'Forbidden: the label is set by the server' });
      if (causes.length) throw INVALID(name, causes);

      const target: Lifecycle = spec.lifecycle ?? rec.lifecycle;
      checkUpdateTransition(name, rec.lifecycle, target);
      const frozen = rec.lifecycle === 'Published' || rec.lifecycle === 'DeletionProposed';
      const metadataChange = packageMetadataChange(spec.packageMetadata, cur.spec.packageMetadata);
      if (frozen) {
        const changed = (spec.readinessGates !== undefined && !jsonEqual(spec.readinessGates ?? [], cur.spec.readinessGates ?? [])) || metadataChange !== undefined;
        if (changed) throw errors.conflict(PR_GR, name, `the spec of a ${rec.lifecycle} package revision cannot change`);
      }

      const wasDeleting = Boolean(cur.metadata.deletionTimestamp);
      // Rendered before anything is saved: a render that fails leaves the revision as it was.
      const contents = rec.lifecycle === 'Draft' ? await this.specContents(cache, rec, cur, input) : undefined;
      await this.saveMeta(cache, name, userMetadata(input.metadata));
      if (contents) {
        await git(name, () => cache.updateContents(rec, contents.files, RENDER, author(cache, user)));
        this.rememberRender(cache, name, contents.renderStatus);
      }

      await this.moveLifecycle(cache, name, target, user);
      if (wasDeleting && !(input.metadata.finalizers ?? []).length) {
        await this.deleteNow(cache, name);
        this.logged(cache, 'package revision deleted', name, user, { finalizersDone: true });
        return { ...cur, metadata: { ...cur.metadata } };
      }
      const moved = target !== rec.lifecycle;
      this.logged(cache, target === 'Proposed' && moved ? 'package revision proposed' : 'package revision updated', name, user, { lifecycle: target, ...(moved ? { from: rec.lifecycle } : {}) });
      return cache.revision(name) ?? cur;
    });
  }

  /** A Draft's package with the packageMetadata, readiness gates and conditions of an update in its Kptfile, rendered; undefined when they did not change. */
  private async specContents(cache: RepositoryCache, rec: RevisionRecord, cur: PackageRevision, input: PackageRevision): Promise<RenderedContents | undefined> {
    const spec = input.spec ?? {};
    const gatesChanged = spec.readinessGates !== undefined && !jsonEqual(spec.readinessGates ?? [], cur.spec.readinessGates ?? []);
    const condsChanged = input.status?.conditions !== undefined && !jsonEqual(input.status.conditions ?? [], cur.status.conditions ?? []);
    const metadataChange = packageMetadataChange(spec.packageMetadata, cur.spec.packageMetadata);
    if (!gatesChanged && !condsChanged && !metadataChange) return undefined;
    const files = await git(rec.name, () => cache.readResources(rec));
    files.Kptfile = editDraftKptfile(rec.name, files.Kptfile ?? '', {
      packageMetadata: metadataChange,
      readinessGates: gatesChanged ? (spec.readinessGates ?? null) : undefined,
      conditions: condsChanged ? ((input.status?.conditions ?? null) as { type: string; status: string }[] | null) : undefined,
    });
    return this.renderer.render('PackageRevision', rec.name, files, pushOnRenderFailure(input.metadata));
  }

  /** Take a revision to a new lifecycle (the git side of every transition). */
  private async moveLifecycle(cache: RepositoryCache, name: string, target: Lifecycle, user: UserInfo): Promise<void> {
    const rec = cache.record(name);
    if (!rec || rec.lifecycle === target) return;
    if (rec.lifecycle === 'Proposed' && target === 'Published') await this.publish(cache, rec, user);
    else await git(name, () => cache.setLifecycle(rec, target));
  }

  private async publish(cache: RepositoryCache, rec: RevisionRecord, user: UserInfo): Promise<void> {
    const next = () => {
      let highest = 0;
      for (const r of cache.records())
        if (r.packagePath === rec.packagePath && (r.lifecycle === 'Published' || r.lifecycle === 'DeletionProposed') && r.revision > highest) highest = r.revision;
      return highest + 1;
    };
    await git(rec.name, async () => {
      const revision = next();
      try {
        await cache.publish(rec, revision, author(cache, user));
      } catch (err) {
        // The tag of that number was taken by someone pushing to git directly, which git refused to
        // overwrite: once the cache has seen it, the next number is free. Syncing only then, rather than
        // before every approval, spares each approval a round trip to the remote.
        if (!(err instanceof GitConflictError)) throw err;
        await cache.refresh(true).catch(() => undefined);
        const again = next();
        if (again === revision) throw err;
        await cache.publish(rec, again, author(cache, user));
      }
    });
  }

  // ---- approval subresource ----

  async approve(namespace: string, name: string, input: PackageRevision, user: UserInfo, opts: WriteOptions = {}): Promise<PackageRevision> {
    return this.withRevision(namespace, name, PR_GR, { resourceVersion: input.metadata.resourceVersion }, 'update', opts, async ({ cache, cur, rec }) => {
      const target = input.spec?.lifecycle;
      if (!target) throw INVALID(name, [{ reason: 'FieldValueRequired', field: 'spec.lifecycle', message: 'Required value' }]);
      checkApprovalTransition(name, rec.lifecycle, target);
      await this.moveLifecycle(cache, name, target, user);
      const done = cache.revision(name);
      const what = target === 'Published' && rec.lifecycle === 'Proposed' ? 'approved' : target === 'Draft' ? 'rejected' : target === 'DeletionProposed' ? 'proposed for deletion' : 'updated';
      this.logged(cache, `package revision ${what}`, name, user, { lifecycle: target, from: rec.lifecycle, ...(done?.spec.revision ? { revision: done.spec.revision } : {}) });
      // After publishing, the draft's name belongs to the tag's revision.
      return done ?? cur;
    });
  }

  // ---- delete ----

  async delete(namespace: string, name: string, preconditions: Preconditions, opts: WriteOptions = {}, user?: UserInfo): Promise<PackageRevision> {
    return this.withRevision(namespace, name, PR_GR, preconditions, 'delete', opts, async ({ cache, cur, rec }) => {
      // The registered branch's placeholder too: deleting it removes the package from the branch (Porch).
      if (rec.lifecycle === 'Published')
        throw errors.forbidden(PR_GR, name, 'a Published package revision must be proposed for deletion (DeletionProposed) before it can be deleted');
      const dependant = this.dependantOf(namespace, name);
      if (dependant) throw errors.forbidden(PR_GR, name, `package revision "${dependant}" uses it as its upstream`);
      if ((cur.metadata.finalizers ?? []).length) {
        if (!cur.metadata.deletionTimestamp) {
          const meta = await this.engine.store.get(PACKAGEREVS, namespace, name);
          if (meta) this.tookMeta(cache, name, await this.engine.store.delete(PACKAGEREVS, namespace, name, { dryRun: cache.isPlanned }));
        }
        this.logged(cache, 'package revision marked for deletion', name, user, { finalizers: cur.metadata.finalizers });
        return cache.revision(name) ?? cur;
      }
      await this.deleteNow(cache, name);
      this.logged(cache, 'package revision deleted', name, user, { lifecycle: rec.lifecycle });
      return cur;
    });
  }

  private dependantOf(namespace: string, name: string): string | undefined {
    for (const cache of this.engine.repositories(namespace))
      for (const pr of cache.revisions())
        for (const t of pr.spec.tasks ?? []) {
          if (t.type === 'clone' && t.clone?.upstreamRef?.upstreamRef?.name === name) return pr.metadata.name;
          if (t.type === 'upgrade' && t.upgrade?.newUpstreamRef?.name === name) return pr.metadata.name;
        }
    return undefined;
  }

  private async deleteNow(cache: RepositoryCache, name: string): Promise<void> {
    const rec = cache.record(name);
    if (!rec) return;
    await git(name, () => cache.remove(rec));
    const meta = await this.engine.store.get(PACKAGEREVS, cache.namespace, name);
    if (meta) {
      const dryRun = cache.isPlanned;
      if ((meta.metadata.finalizers ?? []).length)
        await this.engine.store.update(PACKAGEREVS, { ...meta, metadata: { ...meta.metadata, finalizers: [] } }, { dryRun });
      else await this.engine.store.delete(PACKAGEREVS, cache.namespace, name, { dryRun }).catch(() => undefined);
    }
  }

  // ---- resources ----

  async getResources(namespace: string, name: string): Promise<PackageRevisionResources> {
    const { cache, pr } = this.engine.getRevision(namespace, name);
    const rec = cache.record(name)!;
    const files = await git(name, () => cache.readResources(rec));
    return withRenderStatus(buildResources(pr, files), this.renderStatuses.recall(namespace, name, rec.git.commit));
  }

  private rememberRender(cache: RepositoryCache, name: string, status: RenderStatus): void {
    if (cache.isPlanned) return;
    const rec = cache.record(name);
    if (rec) this.renderStatuses.remember(cache.namespace, name, rec.git.commit, status);
  }

  async updateResources(namespace: string, name: string, input: PackageRevisionResources, user: UserInfo, opts: WriteOptions = {}): Promise<PackageRevisionResources> {
    return this.withRevision(namespace, name, PRR_GR, { resourceVersion: input.metadata.resourceVersion }, 'update', opts, async ({ cache, cur, rec }) => {
      if (rec.lifecycle !== 'Draft')
        throw errors.conflict(PRR_GR, name, `cannot update the resources of a ${rec.lifecycle} package revision; only Draft package revisions can be changed`);
      const resources = input.spec?.resources ?? {};
      const causes = resourceCauses(resources);
      if (causes.length) throw errors.invalid('PackageRevisionResources', 'porch.kpt.dev', name, causes);
      checkPackageSize(`package revision "${name}"`, resources, this.engine.security.maxPackageBytes);
      const rendered = await this.renderer.render('PackageRevisionResources', name, resources, pushOnRenderFailure(cur.metadata));
      await git(name, () => cache.updateContents(rec, rendered.files, RENDER, author(cache, user)));
      this.rememberRender(cache, name, rendered.renderStatus);
      // Labels and annotations are the revision's own, as on the PackageRevision (kubectl apply keeps
      // its last-applied-configuration there); finalizers and owners are managed through the PackageRevision only.
      const given = userMetadata(input.metadata);
      await this.saveMeta(cache, name, { ...userMetadata(cur.metadata), labels: given.labels, annotations: given.annotations });
      this.logged(cache, 'package revision resources updated', name, user, { files: Object.keys(rendered.files).length });
      return withRenderStatus(buildResources(cache.revision(name) ?? cur, rendered.files), rendered.renderStatus);
    });
  }
}

function pushOnRenderFailure(meta: { annotations?: Record<string, string> | null }): boolean {
  return meta.annotations?.[PUSH_ON_RENDER_FAILURE] === 'true';
}

function withRenderStatus(prr: PackageRevisionResources, status: RenderStatus | undefined): PackageRevisionResources {
  return status ? { ...prr, status: { ...prr.status, renderStatus: { result: { ...status.result }, error: status.error } } } : prr;
}

/**
 * The maps of spec.packageMetadata an update changes (undefined: none). As in Porch, a map not
 * given keeps the Kptfile's, one given replaces it.
 */
function packageMetadataChange(given: PackageMetadata | null | undefined, cur: PackageMetadata | null | undefined): PackageMetadata | undefined {
  if (!given) return undefined;
  const out: PackageMetadata = {};
  if (given.labels && !jsonEqual(given.labels, cur?.labels ?? {})) out.labels = given.labels;
  if (given.annotations && !jsonEqual(given.annotations, cur?.annotations ?? {})) out.annotations = given.annotations;
  return out.labels || out.annotations ? out : undefined;
}

/** A new revision's files with the create request's packageMetadata added to its Kptfile (every task, as Porch). */
function withCreateMetadata(name: string, files: Record<string, string>, pm: PackageMetadata | null | undefined): Record<string, string> {
  if (!pm || files.Kptfile === undefined) return files;
  try {
    return { ...files, Kptfile: withPackageMetadata(files.Kptfile, pm) };
  } catch (err) {
    if (err instanceof KptfileError) throw INVALID(name, [{ field: 'spec.packageMetadata', message: `Invalid value: the package's Kptfile cannot take it: ${err.message}` }]);
    throw err;
  }
}

/** A Draft's Kptfile with the spec written in; one this server cannot edit is the draft's state, a 409. */
function editDraftKptfile(name: string, text: string, changes: Parameters<typeof updateKptfile>[1]): string {
  try {
    return updateKptfile(text, changes);
  } catch (err) {
    if (err instanceof KptfileError) throw errors.conflict(PR_GR, name, `the draft's Kptfile cannot be updated: ${err.message}`);
    throw err;
  }
}

/** A package's files: relative paths inside the package, and a valid Kptfile at its root. */
export function resourceCauses(resources: Record<string, string>): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const { path, message } of packagePathProblems(Object.keys(resources)))
    causes.push({ field: `spec.resources[${path}]`, message: `Invalid value: ${JSON.stringify(path)}: ${message}` });
  const problem = kptfileProblem(resources.Kptfile);
  if (problem) causes.push({ field: 'spec.resources[Kptfile]', message: `Invalid value: ${problem}` });
  return causes;
}
