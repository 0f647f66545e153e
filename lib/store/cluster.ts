import type { KubeObject } from '../api/meta.ts';
import { apiVersionOf, type ResourceDescriptor } from '../api/resources.ts';
import { errors, StatusError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { deepFreeze, isRecord } from '../util.ts';
import type { Unsubscribe } from '../watch/types.ts';
import { Informer, parseResourceVersion } from './cluster-informer.ts';
import { checkStoreFieldSelector, storeObjectMatcher } from './fields.ts';
import type { KubeClient } from './kube-client.ts';
import { resourcePath } from './kube-paths.ts';
import type { DeleteOptions, DryRunOption, ListOptions, ListResult, Store, UpdateOptions, WatchOptions } from './types.ts';

export interface ClusterStoreOptions {
  client: KubeClient;
  log: Logger;
  /** Listed and watched before open() returns; other resources start on first use. */
  prefetch?: ResourceDescriptor[];
  /**
   * Resources read straight from the API server instead of a cache. Default: Secrets. The engine only
   * ever gets a Secret by name (git credentials, when a repository is opened), so caching every Secret
   * of the cluster would hold them all in memory and need list/watch on all of them for no gain.
   */
  uncached?: (res: ResourceDescriptor) => boolean;
  /** How long open() and the first read of a resource wait for its first list. */
  syncTimeoutMs?: number;
  /** How long a write waits for the watch to bring it into the cache, so a read right after sees it. */
  writeVisibleTimeoutMs?: number;
  /** Server-side watch timeout; randomised above this (as client-go's reflector does) so watches do not all restart together. */
  watchTimeoutSeconds?: number;
}

function resKey(res: ResourceDescriptor): string {
  return `${res.group || 'core'}/${res.plural}`;
}

function gr(res: ResourceDescriptor) {
  return { group: res.group, resource: res.plural };
}

const isSecret = (res: ResourceDescriptor) => res.group === '' && res.plural === 'secrets';
const UNCONDITIONAL_UPDATE_ATTEMPTS = 5;

/**
 * The cluster-mode store: objects live in kube-apiserver (the config.porch.kpt.dev CRDs, Namespaces,
 * Secrets). Reads are served from informer caches; writes go to the API server and return what it
 * returns, with its Status errors (409, 422, 404…) passed on as they are. A write returns only once
 * the watch has brought it into the cache (bounded wait), so the engine reads its own writes as it
 * does with the embedded store.
 */
export class ClusterStore implements Store {
  private readonly informers = new Map<string, Informer>();
  private readonly uncached: (res: ResourceDescriptor) => boolean;
  private readonly syncTimeoutMs: number;
  private readonly writeVisibleTimeoutMs: number;
  private closed = false;

  private constructor(private readonly opts: ClusterStoreOptions) {
    this.uncached = opts.uncached ?? isSecret;
    this.syncTimeoutMs = opts.syncTimeoutMs ?? 60_000;
    this.writeVisibleTimeoutMs = opts.writeVisibleTimeoutMs ?? 10_000;
  }

  static async open(opts: ClusterStoreOptions): Promise<ClusterStore> {
    const store = new ClusterStore(opts);
    try {
      await Promise.all((opts.prefetch ?? []).map((res) => store.informer(res).ready(store.syncTimeoutMs)));
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  /** The informer of a cached resource, started on first use. */
  informer(res: ResourceDescriptor): Informer {
    const key = resKey(res);
    let inf = this.informers.get(key);
    if (!inf) {
      if (this.closed) throw errors.unavailable('the store is closed');
      const client = this.opts.client;
      const base = this.opts.watchTimeoutSeconds ?? 300;
      inf = new Informer(
        {
          list: () => client.listObjects(res),
          watch: (rv, onEvent, onDone) => client.watch(res, rv, onEvent, onDone, { timeoutSeconds: base + Math.floor(Math.random() * base) }),
        },
        { name: res.group ? `${res.plural}.${res.group}` : res.plural, log: this.opts.log },
      );
      this.informers.set(key, inf);
      inf.start();
    }
    return inf;
  }

  private async synced(res: ResourceDescriptor): Promise<Informer> {
    const inf = this.informer(res);
    await inf.ready(this.syncTimeoutMs);
    return inf;
  }

  private namespaceOf(res: ResourceDescriptor, namespace: string | undefined): string | undefined {
    if (!res.namespaced) return undefined;
    if (!namespace) throw errors.badRequest(`a namespace is required for ${res.plural}`);
    return namespace;
  }

  currentResourceVersion(): string {
    let max = 0;
    for (const inf of this.informers.values()) max = Math.max(max, inf.resourceVersion);
    return String(max);
  }

  async get<T extends KubeObject>(res: ResourceDescriptor<T>, namespace: string | undefined, name: string): Promise<T | undefined> {
    if (res.namespaced && !namespace) return undefined;
    if (this.uncached(res)) {
      const obj = await this.opts.client.getObject(res, res.namespaced ? namespace : undefined, name);
      return obj ? (deepFreeze(obj) as T) : undefined;
    }
    return (await this.synced(res)).get(res.namespaced ? namespace : undefined, name) as T | undefined;
  }

  async list<T extends KubeObject>(res: ResourceDescriptor<T>, opts: ListOptions = {}): Promise<ListResult<T>> {
    if (opts.fieldSelector) checkStoreFieldSelector(res, opts.fieldSelector);
    const namespace = res.namespaced ? opts.namespace : undefined;
    if (this.uncached(res)) {
      const { items, resourceVersion } = await this.opts.client.listObjects(res, { namespace, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector });
      return { items: items.map((i) => deepFreeze(i) as T), resourceVersion };
    }
    const inf = await this.synced(res);
    const match = storeObjectMatcher(res, namespace, opts.labelSelector, opts.fieldSelector);
    const items: KubeObject[] = [];
    for (const obj of inf.values()) if (match(obj)) items.push(obj);
    return { items: items as T[], resourceVersion: String(inf.resourceVersion) };
  }

  async create<T extends KubeObject>(res: ResourceDescriptor<T>, obj: KubeObject, opts: DryRunOption = {}): Promise<T> {
    const namespace = this.namespaceOf(res, obj.metadata.namespace);
    const body = { ...obj, apiVersion: apiVersionOf(res), kind: res.kind };
    const created = (await this.opts.client.request({ method: 'POST', path: resourcePath(res, namespace), body, query: dryRunQuery(opts) })) as KubeObject;
    if (!opts.dryRun) await this.caughtUp(res, created);
    return deepFreeze(created) as T;
  }

  async update<T extends KubeObject>(res: ResourceDescriptor<T>, obj: KubeObject, opts: UpdateOptions = {}): Promise<T> {
    const namespace = this.namespaceOf(res, obj.metadata.namespace);
    const name = obj.metadata.name ?? '';
    const path = resourcePath(res, namespace, name, opts.subresource);
    const put = (resourceVersion: string | undefined) =>
      this.opts.client.request({
        method: 'PUT',
        path,
        body: { ...obj, apiVersion: apiVersionOf(res), kind: res.kind, metadata: { ...obj.metadata, resourceVersion } },
        query: dryRunQuery(opts),
      }) as Promise<KubeObject>;

    let updated: KubeObject;
    if (obj.metadata.resourceVersion) updated = await put(obj.metadata.resourceVersion);
    else {
      // Our Store's update without a resourceVersion is unconditional; custom resources refuse that,
      // so the current version is read from the server (not the cache, which may lag) and a writer
      // that got in between is retried.
      for (let attempt = 1; ; attempt++) {
        const cur = await this.opts.client.getObject(res, namespace, name);
        if (!cur) throw errors.notFound(gr(res), name);
        try {
          updated = await put(cur.metadata.resourceVersion);
          break;
        } catch (err) {
          if (attempt < UNCONDITIONAL_UPDATE_ATTEMPTS && err instanceof StatusError && err.code === 409 && err.reason === 'Conflict') continue;
          throw err;
        }
      }
    }
    if (!opts.dryRun) await this.caughtUp(res, updated);
    return deepFreeze(updated) as T;
  }

  async delete<T extends KubeObject>(res: ResourceDescriptor<T>, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<T> {
    const ns = this.namespaceOf(res, namespace);
    const preconditions: Record<string, string> = {};
    if (opts.resourceVersion) preconditions.resourceVersion = opts.resourceVersion;
    if (opts.uid) preconditions.uid = opts.uid;
    const cached = this.uncached(res) ? undefined : (await this.synced(res)).get(ns, name);
    const answer = await this.opts.client.request({
      method: 'DELETE',
      path: resourcePath(res, ns, name),
      body: { apiVersion: 'v1', kind: 'DeleteOptions', ...(Object.keys(preconditions).length ? { preconditions } : {}) },
      query: dryRunQuery(opts),
    });
    // Built-in kinds answer a finished delete with a Success Status, custom resources with the object.
    const last: KubeObject =
      isRecord(answer) && answer.kind === 'Status'
        ? (cached ?? { apiVersion: apiVersionOf(res), kind: res.kind, metadata: { name, ...(ns ? { namespace: ns } : {}) } })
        : (answer as KubeObject);
    if (!this.uncached(res) && !opts.dryRun) {
      const inf = this.informer(res);
      // Marked for deletion (finalizers, a terminating namespace): the object stays, at a new version.
      const pending = Boolean(last.metadata.deletionTimestamp);
      const uid = last.metadata.uid ?? cached?.metadata.uid;
      if (pending) await this.caughtUp(res, last);
      else await this.visible(res, inf, () => {
        const now = inf.get(ns, name);
        return !now || (uid !== undefined && now.metadata.uid !== uid);
      });
    }
    return deepFreeze(last) as T;
  }

  /** Waits until the cache holds this version of the object (or a later one). */
  private async caughtUp(res: ResourceDescriptor, written: KubeObject): Promise<void> {
    if (this.uncached(res)) return;
    const rv = parseResourceVersion(written.metadata.resourceVersion);
    const inf = this.informer(res);
    await this.visible(res, inf, () => inf.resourceVersion >= rv);
  }

  private async visible(res: ResourceDescriptor, inf: Informer, check: () => boolean): Promise<void> {
    if (await inf.waitUntil(check, this.writeVisibleTimeoutMs)) return;
    this.opts.log.warn('a write is not in the cache yet; reads may lag behind it', { resource: res.plural, waitedMs: this.writeVisibleTimeoutMs });
  }

  watch(res: ResourceDescriptor, opts: WatchOptions): Unsubscribe {
    if (this.uncached(res)) throw errors.badRequest(`watching ${res.plural} is not supported by the cluster store`);
    if (opts.fieldSelector) checkStoreFieldSelector(res, opts.fieldSelector);
    const inf = this.informer(res);
    if (!inf.isSynced) throw errors.unavailable(`the cache of ${res.plural} is not synced with the Kubernetes API server yet`, 1);
    const filter = storeObjectMatcher(res, res.namespaced ? opts.namespace : undefined, opts.labelSelector, opts.fieldSelector);
    const given = opts.resourceVersion && opts.resourceVersion !== '0' ? Number(opts.resourceVersion) : undefined;
    if (given !== undefined && !Number.isSafeInteger(given)) throw errors.badRequest(`invalid resourceVersion "${opts.resourceVersion}"`);
    if (given === undefined) {
      for (const obj of inf.values()) if (filter(obj)) opts.send({ type: 'ADDED', object: obj });
      return inf.hub.subscribe({ filter, send: opts.send });
    }
    // A version beyond what this resource's cache has applied (currentResourceVersion() is the
    // newest of all caches) means "from what you have": whatever arrives later for this resource is
    // newer than any read the caller made from the cache.
    return inf.hub.subscribe({ fromRV: Math.min(given, inf.resourceVersion), filter, send: opts.send });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}

/** kube-apiserver runs a dry run itself: checked, admitted and answered, nothing stored. */
function dryRunQuery(opts: DryRunOption): Record<string, string> | undefined {
  return opts.dryRun ? { dryRun: 'All' } : undefined;
}
