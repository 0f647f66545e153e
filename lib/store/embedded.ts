import { readdir, readFile, unlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { KubeObject } from '../api/meta.ts';
import { inKeyOrder } from '../api/order.ts';
import { apiVersionOf, type ResourceDescriptor } from '../api/resources.ts';
import { errors } from '../errors.ts';
import { deepFreeze, jsonEqual, KeyedMutex, nowTimestamp } from '../util.ts';
import { WatchHub } from '../watch/hub.ts';
import type { Unsubscribe } from '../watch/types.ts';
import { mkdirPrivate, writeFileAtomic } from './atomic-file.ts';
import { checkStoreFieldSelector, storeObjectMatcher } from './fields.ts';
import type { DeleteOptions, DryRunOption, ListOptions, ListResult, Store, UpdateOptions, WatchOptions } from './types.ts';

const CLUSTER_DIR = '_cluster';

interface Bucket {
  objects: Map<string, KubeObject>;
  hub: WatchHub;
}

function resKey(res: ResourceDescriptor): string {
  return `${res.group || 'core'}/${res.plural}`;
}

function objKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

function hasStatusSubresource(res: ResourceDescriptor): boolean {
  return res.subresources.some((s) => s.name === 'status');
}

/**
 * The dev-mode store: every object one JSON file under `<dir>/<group>/<plural>/<namespace>/`, written
 * atomically; all objects held in memory (read at start) so reads never touch the disk.
 */
export class EmbeddedStore implements Store {
  private readonly buckets = new Map<string, Bucket>();
  private rv = 0;
  private readonly locks = new KeyedMutex();
  private readonly pending = new Map<number, (() => void) | null>();

  private constructor(
    private readonly dir: string,
    private readonly durable: boolean,
  ) {}

  static async open(dir: string, resources: ResourceDescriptor[], opts: { durable?: boolean } = {}): Promise<EmbeddedStore> {
    const store = new EmbeddedStore(dir, opts.durable ?? true);
    await mkdirPrivate(dir);
    const meta = await readFile(join(dir, 'rv'), 'utf8').catch(() => '0');
    store.rv = Number.parseInt(meta, 10) || 0;
    for (const res of resources) if (res.backend === 'store') await store.load(res);
    // A watch cannot resume from before this start: the history is gone.
    for (const b of store.buckets.values()) b.hub.resetFloor(store.rv);
    return store;
  }

  private bucket(res: ResourceDescriptor): Bucket {
    const key = resKey(res);
    let b = this.buckets.get(key);
    if (!b) {
      b = { objects: new Map(), hub: new WatchHub() };
      this.buckets.set(key, b);
    }
    return b;
  }

  private resDir(res: ResourceDescriptor): string {
    return join(this.dir, res.group || 'core', res.plural);
  }

  private objPath(res: ResourceDescriptor, namespace: string | undefined, name: string): string {
    return join(this.resDir(res), namespace || CLUSTER_DIR, `${name}.json`);
  }

  private async load(res: ResourceDescriptor): Promise<void> {
    const b = this.bucket(res);
    const base = this.resDir(res);
    const namespaces = await readdir(base).catch(() => [] as string[]);
    for (const ns of namespaces) {
      const files = await readdir(join(base, ns)).catch(() => [] as string[]);
      for (const f of files) {
        const full = join(base, ns, f);
        if (f.includes('.tmp-')) {
          // Left by a crash between write and rename: the old file (if any) is still intact.
          await unlink(full).catch(() => undefined);
          continue;
        }
        if (!f.endsWith('.json')) continue;
        const obj = JSON.parse(await readFile(full, 'utf8')) as KubeObject;
        const rv = Number.parseInt(obj.metadata.resourceVersion ?? '0', 10);
        if (rv > this.rv) this.rv = rv;
        b.objects.set(objKey(obj.metadata.namespace, obj.metadata.name ?? ''), deepFreeze(obj));
      }
    }
  }

  currentResourceVersion(): string {
    return String(this.rv);
  }

  async get<T extends KubeObject>(res: ResourceDescriptor<T>, namespace: string | undefined, name: string): Promise<T | undefined> {
    return this.bucket(res).objects.get(objKey(res.namespaced ? namespace : undefined, name)) as T | undefined;
  }

  async list<T extends KubeObject>(res: ResourceDescriptor<T>, opts: ListOptions = {}): Promise<ListResult<T>> {
    if (opts.fieldSelector) checkStoreFieldSelector(res, opts.fieldSelector);
    const match = storeObjectMatcher(res, res.namespaced ? opts.namespace : undefined, opts.labelSelector, opts.fieldSelector);
    const items: KubeObject[] = [];
    for (const obj of this.bucket(res).objects.values()) if (match(obj)) items.push(obj);
    return { items: items as T[], resourceVersion: String(this.rv) };
  }

  private gr(res: ResourceDescriptor) {
    return { group: res.group, resource: res.plural };
  }

  /**
   * Runs `fn` holding the lock of one object, with its bucket, key and namespace (none for a
   * cluster-scoped kind): writes to one object are serialised, writes to different ones are not.
   */
  private withObject(
    res: ResourceDescriptor,
    namespace: string | undefined,
    name: string,
    fn: (b: Bucket, key: string, namespace: string | undefined) => Promise<KubeObject>,
  ): Promise<KubeObject> {
    const ns = res.namespaced ? namespace : undefined;
    const key = objKey(ns, name);
    return this.locks.run(`${resKey(res)}|${key}`, () => fn(this.bucket(res), key, ns));
  }

  async create<T extends KubeObject>(res: ResourceDescriptor<T>, input: KubeObject, opts: DryRunOption = {}): Promise<T> {
    const name = input.metadata.name ?? '';
    const stored = await this.withObject(res, input.metadata.namespace, name, async (b, key, namespace) => {
      if (b.objects.has(key)) throw errors.alreadyExists(this.gr(res), name);
      const obj = structuredClone(input);
      obj.apiVersion = apiVersionOf(res);
      obj.kind = res.kind;
      obj.metadata = {
        ...obj.metadata,
        namespace,
        uid: randomUUID(),
        creationTimestamp: nowTimestamp(),
        generation: 1,
      };
      if (!namespace) delete obj.metadata.namespace;
      delete obj.metadata.deletionTimestamp;
      if (opts.dryRun) {
        delete obj.metadata.resourceVersion;
        return deepFreeze(obj);
      }
      return this.commit(res, b, key, obj, undefined);
    });
    return stored as T;
  }

  async update<T extends KubeObject>(res: ResourceDescriptor<T>, input: KubeObject, opts: UpdateOptions = {}): Promise<T> {
    const name = input.metadata.name ?? '';
    const stored = await this.withObject(res, input.metadata.namespace, name, async (b, key, namespace) => {
      const cur = b.objects.get(key);
      if (!cur) throw errors.notFound(this.gr(res), name);
      const wantRV = input.metadata.resourceVersion;
      if (wantRV && wantRV !== cur.metadata.resourceVersion) throw errors.staleResourceVersion(this.gr(res), name);
      if (input.metadata.uid && input.metadata.uid !== cur.metadata.uid)
        throw errors.conflict(this.gr(res), name, `Precondition failed: UID in precondition: ${input.metadata.uid}, UID in object meta: ${cur.metadata.uid}`);

      let next: KubeObject;
      if (opts.subresource === 'status') {
        next = { ...structuredClone(cur), status: structuredClone(input.status) };
      } else {
        next = structuredClone(input);
        if (hasStatusSubresource(res)) {
          if (cur.status === undefined) delete next.status;
          else next.status = structuredClone(cur.status);
        }
      }
      next.apiVersion = apiVersionOf(res);
      next.kind = res.kind;
      // Server-owned metadata cannot be changed by a client.
      next.metadata = {
        ...next.metadata,
        namespace,
        uid: cur.metadata.uid,
        creationTimestamp: cur.metadata.creationTimestamp,
        deletionTimestamp: cur.metadata.deletionTimestamp,
        generation: cur.metadata.generation ?? 1,
      };
      if (!namespace) delete next.metadata.namespace;
      if (!next.metadata.deletionTimestamp) delete next.metadata.deletionTimestamp;
      if (opts.subresource !== 'status' && !jsonEqual(specOf(next), specOf(cur))) next.metadata.generation = (cur.metadata.generation ?? 1) + 1;

      next.metadata.resourceVersion = cur.metadata.resourceVersion;
      if (jsonEqual(next, cur)) return cur; // a no-op update keeps the resourceVersion, as kube-apiserver does
      if (opts.dryRun) return deepFreeze(next);

      if (next.metadata.deletionTimestamp && !(next.metadata.finalizers ?? []).length) {
        return this.remove(res, b, key, next);
      }
      return this.commit(res, b, key, next, cur);
    });
    return stored as T;
  }

  async delete<T extends KubeObject>(res: ResourceDescriptor<T>, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<T> {
    const stored = await this.withObject(res, namespace, name, async (b, key) => {
      const cur = b.objects.get(key);
      if (!cur) throw errors.notFound(this.gr(res), name);
      if (opts.resourceVersion && opts.resourceVersion !== cur.metadata.resourceVersion)
        throw errors.conflict(this.gr(res), name, `Precondition failed: ResourceVersion in precondition: ${opts.resourceVersion}, ResourceVersion in object meta: ${cur.metadata.resourceVersion}`);
      if (opts.uid && opts.uid !== cur.metadata.uid)
        throw errors.conflict(this.gr(res), name, `Precondition failed: UID in precondition: ${opts.uid}, UID in object meta: ${cur.metadata.uid}`);
      if ((cur.metadata.finalizers ?? []).length) {
        if (cur.metadata.deletionTimestamp) return cur;
        const marked = structuredClone(cur);
        marked.metadata.deletionTimestamp = nowTimestamp();
        return opts.dryRun ? deepFreeze(marked) : this.commit(res, b, key, marked, cur);
      }
      return opts.dryRun ? cur : this.remove(res, b, key, structuredClone(cur));
    });
    return stored as T;
  }

  private async commit(res: ResourceDescriptor, b: Bucket, key: string, obj: KubeObject, prev: KubeObject | undefined): Promise<KubeObject> {
    const rv = this.claimRV();
    obj.metadata.resourceVersion = String(rv);
    const path = this.objPath(res, obj.metadata.namespace, obj.metadata.name ?? '');
    try {
      await mkdirPrivate(join(path, '..'));
      await writeFileAtomic(path, JSON.stringify(obj), this.durable);
    } catch (err) {
      this.settle(rv, undefined);
      throw err;
    }
    const frozen = deepFreeze(obj);
    b.objects.set(key, frozen);
    this.settle(rv, () => b.hub.publish({ type: prev ? 'MODIFIED' : 'ADDED', object: frozen, prev, rv }));
    return frozen;
  }

  private async remove(res: ResourceDescriptor, b: Bucket, key: string, last: KubeObject): Promise<KubeObject> {
    const rv = this.claimRV();
    try {
      await unlink(this.objPath(res, last.metadata.namespace, last.metadata.name ?? ''));
      // Deletions leave no file to carry their resourceVersion, so the counter is kept on its own.
      await writeFileAtomic(join(this.dir, 'rv'), String(rv), this.durable);
    } catch (err) {
      this.settle(rv, undefined);
      throw err;
    }
    last.metadata.resourceVersion = String(rv);
    const frozen = deepFreeze(last);
    b.objects.delete(key);
    this.settle(rv, () => b.hub.publish({ type: 'DELETED', object: frozen, rv }));
    return frozen;
  }

  // Writes to different objects run in parallel, but watchers must see events in resourceVersion order
  // (a client resuming from the last version it saw must miss nothing), so events wait for every lower
  // version to settle before they are published.
  private claimRV(): number {
    this.rv += 1;
    this.pending.set(this.rv, null);
    return this.rv;
  }

  private settle(rv: number, publish: (() => void) | undefined): void {
    this.pending.set(rv, publish ?? (() => undefined));
    for (const [k, fn] of this.pending) {
      if (fn === null) break;
      this.pending.delete(k);
      fn();
    }
  }

  watch(res: ResourceDescriptor, opts: WatchOptions): Unsubscribe {
    if (opts.fieldSelector) checkStoreFieldSelector(res, opts.fieldSelector);
    const filter = storeObjectMatcher(res, res.namespaced ? opts.namespace : undefined, opts.labelSelector, opts.fieldSelector);
    const b = this.bucket(res);
    const from = opts.resourceVersion && opts.resourceVersion !== '0' ? Number.parseInt(opts.resourceVersion, 10) : undefined;
    if (from !== undefined && Number.isNaN(from)) throw errors.badRequest(`invalid resourceVersion "${opts.resourceVersion}"`);
    if (from === undefined) {
      // Like kube-apiserver: a watch without a resourceVersion starts with the current state as ADDED.
      for (const obj of inKeyOrder([...b.objects.values()])) if (filter(obj)) opts.send({ type: 'ADDED', object: obj });
    }
    return b.hub.subscribe({ fromRV: from, filter, send: opts.send });
  }

  async close(): Promise<void> {
    // Nothing is buffered: every acknowledged write is already on disk.
  }

  /** For tests: wipe everything. */
  async destroy(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

function specOf(obj: KubeObject): unknown {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}
