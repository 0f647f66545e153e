import type { KubeObject } from '../api/meta.ts';
import { errors, StatusError, errMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import { deepFreeze, isRecord } from '../util.ts';
import { WatchHub } from '../watch/hub.ts';
import type { RawWatchEvent, WatchHandle } from './kube-client.ts';
import { statusErrorFromResponse } from './kube-status.ts';

/** Where an informer gets its data: a consistent list, and a watch from a resourceVersion. */
export interface InformerSource {
  list(): Promise<{ items: KubeObject[]; resourceVersion: string }>;
  watch(resourceVersion: string, onEvent: (ev: RawWatchEvent) => void, onDone: (err?: unknown) => void): Promise<WatchHandle>;
}

export interface InformerOptions {
  /** For logs and errors, e.g. "repositories.config.porch.kpt.dev". */
  name: string;
  log: Logger;
  /** First retry delay after a failed list or watch; doubles up to maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Events a watcher of ours can replay from (resume by resourceVersion). */
  historySize?: number;
}

/**
 * Etcd revisions, as kube-apiserver hands them out, are integers that only grow; the cache and its
 * watchers compare them as such (as the dev store's are compared).
 */
export function parseResourceVersion(rv: unknown): number {
  if (rv === undefined || rv === null || rv === '') return 0;
  const n = typeof rv === 'number' ? rv : Number(rv);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`unsupported resourceVersion ${JSON.stringify(rv)}: cluster mode needs the integer resourceVersions of an etcd-backed API server`);
  return n;
}

function keyOf(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

function rvOf(obj: KubeObject): number {
  return parseResourceVersion(obj.metadata.resourceVersion);
}

function isKubeObject(v: unknown): v is KubeObject {
  return isRecord(v) && isRecord(v.metadata) && typeof v.metadata.name === 'string';
}

interface Waiter {
  check: () => boolean;
  resolve: (ok: boolean) => void;
  timer: NodeJS.Timeout;
}

/**
 * One resource of the API server mirrored in memory, as client-go's reflector and store keep it:
 * list, then watch from the list's resourceVersion (with bookmarks), resume a broken watch from the
 * last resourceVersion seen, and list again when the server says that version is gone (410). Every
 * change, including those a relist reveals, goes out through `hub` in order, so our own watchers
 * can resume by resourceVersion as long as the history holds it.
 */
export class Informer {
  readonly hub: WatchHub;
  private objects = new Map<string, KubeObject>();
  private rv = 0;
  private synced = false;
  private stopped = false;
  private running: Promise<void> | undefined;
  private handle: WatchHandle | undefined;
  /** Ends the watch in progress from our side (stop()): its promise settles as a normal end. */
  private endWatch: (() => void) | undefined;
  /** Cuts a retry delay short (stop()). */
  private wake: (() => void) | undefined;
  /** Whether the current watch delivered anything: a watch that worked for a while retries at once. */
  private progressed = false;
  private readonly waiters = new Set<Waiter>();
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  /** The last failure of a list or watch, for logs and 503 messages. */
  lastError: string | undefined;
  /** How many times the informer listed again after having synced (after 410 Gone). */
  relists = 0;

  constructor(
    private readonly source: InformerSource,
    private readonly opts: InformerOptions,
  ) {
    this.hub = new WatchHub(opts.historySize ?? 10_000);
    this.initialBackoffMs = opts.initialBackoffMs ?? 500;
    this.maxBackoffMs = opts.maxBackoffMs ?? 30_000;
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.handle?.stop();
    this.endWatch?.();
    this.wake?.();
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(false);
    }
    this.waiters.clear();
    await this.running;
  }

  get isSynced(): boolean {
    return this.synced;
  }

  /** The resourceVersion the cache reflects: everything of this resource up to it has been applied. */
  get resourceVersion(): number {
    return this.rv;
  }

  get(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(`${namespace ?? ''}/${name}`);
  }

  values(): IterableIterator<KubeObject> {
    return this.objects.values();
  }

  /** Resolves once the first list is in; 503 if that takes longer than `timeoutMs`. */
  async ready(timeoutMs: number): Promise<void> {
    if (this.synced) return;
    this.start();
    const ok = await this.waitUntil(() => this.synced, timeoutMs);
    if (!ok) {
      const why = this.lastError ? `: ${this.lastError}` : '';
      throw errors.unavailable(`the cache of ${this.opts.name} is not synced with the Kubernetes API server yet${why}`, 1);
    }
  }

  /** Resolves true as soon as `check` holds after some change was applied (or now), false after `timeoutMs`. */
  waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    if (this.stopped) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const w: Waiter = {
        check,
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(w);
          resolve(false);
        }, timeoutMs),
      };
      w.timer.unref();
      this.waiters.add(w);
    });
  }

  private notify(): void {
    for (const w of this.waiters) {
      if (!w.check()) continue;
      clearTimeout(w.timer);
      this.waiters.delete(w);
      w.resolve(true);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async loop(): Promise<void> {
    let mustList = true;
    let backoff = this.initialBackoffMs;
    while (!this.stopped) {
      try {
        if (mustList) {
          const list = await this.source.list();
          if (this.stopped) return;
          this.replace(list.items, parseResourceVersion(list.resourceVersion));
          mustList = false;
          backoff = this.initialBackoffMs;
        }
        const started = Date.now();
        this.progressed = false;
        const seen = await this.watchOnce();
        if (this.stopped) return;
        // A normal end (the server's watch timeout) resumes at once; one that ends as soon as it
        // starts, over and over, must not spin.
        if (seen === 0 && Date.now() - started < 1000) {
          await this.sleep(backoff);
          backoff = Math.min(backoff * 2, this.maxBackoffMs);
        } else backoff = this.initialBackoffMs;
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof StatusError && err.code === 410) {
          // The history from our resourceVersion is gone (compacted, or the server restarted):
          // only a fresh list can tell what changed meanwhile.
          this.opts.log.info('watch resourceVersion too old; listing again', { resource: this.opts.name, resourceVersion: this.rv, error: err.message });
          mustList = true;
          this.relists += 1;
          continue;
        }
        this.lastError = errMessage(err);
        if (!mustList && this.progressed) backoff = this.initialBackoffMs;
        this.opts.log.warn(mustList ? 'list failed' : 'watch failed', { resource: this.opts.name, error: this.lastError, retryInMs: backoff });
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, this.maxBackoffMs);
      }
    }
  }

  /** One watch connection, from the current resourceVersion; resolves with the number of events seen when it ends normally. */
  private watchOnce(): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let seen = 0;
      let failure: unknown;
      this.endWatch = () => resolve(seen);
      const onEvent = (ev: RawWatchEvent) => {
        if (failure !== undefined || this.stopped) return;
        try {
          if (ev.type === 'ERROR') {
            // kube-apiserver reports "too old resource version" as an ERROR event carrying a 410 Status.
            const code = isRecord(ev.object) && typeof ev.object.code === 'number' ? ev.object.code : 500;
            failure = statusErrorFromResponse(code, ev.object);
            this.handle?.stop();
            reject(failure);
            return;
          }
          seen += 1;
          this.progressed = true;
          this.apply(ev);
          this.lastError = undefined;
        } catch (err) {
          failure = err;
          this.handle?.stop();
          reject(err);
        }
      };
      const onDone = (err?: unknown) => {
        if (failure !== undefined) return;
        if (err) reject(err);
        else resolve(seen);
      };
      this.source.watch(String(this.rv), onEvent, onDone).then(
        (h) => {
          this.handle = h;
          if (this.stopped || failure !== undefined) h.stop();
        },
        reject,
      );
    });
  }

  private apply(ev: RawWatchEvent): void {
    if (ev.type === 'BOOKMARK') {
      // Only the resourceVersion counts: every change of this resource up to it has been sent.
      const meta = isRecord(ev.object) && isRecord(ev.object.metadata) ? ev.object.metadata : {};
      const rv = parseResourceVersion(meta.resourceVersion);
      if (rv > this.rv) this.rv = rv;
      this.notify();
      return;
    }
    if (!isKubeObject(ev.object)) {
      this.opts.log.warn('watch event without an object; ignored', { resource: this.opts.name, type: ev.type });
      return;
    }
    const obj = deepFreeze(ev.object);
    const rv = rvOf(obj);
    const key = keyOf(obj);
    const cur = this.objects.get(key);
    switch (ev.type) {
      case 'ADDED':
      case 'MODIFIED':
        // A resumed watch may repeat what a list already showed.
        if (cur && rvOf(cur) >= rv) break;
        this.objects.set(key, obj);
        this.hub.publish({ type: cur ? 'MODIFIED' : 'ADDED', object: obj, prev: cur, rv });
        break;
      case 'DELETED':
        if (!cur || (cur.metadata.uid && obj.metadata.uid && cur.metadata.uid !== obj.metadata.uid)) break;
        this.objects.delete(key);
        this.hub.publish({ type: 'DELETED', object: obj, rv });
        break;
      default:
        this.opts.log.warn('unknown watch event type; ignored', { resource: this.opts.name, type: ev.type });
        return;
    }
    if (rv > this.rv) this.rv = rv;
    this.notify();
  }

  /** Takes in a full list: the first one fills the cache; later ones are told to watchers as the changes they amount to. */
  private replace(items: KubeObject[], listRV: number): void {
    const next = new Map<string, KubeObject>();
    for (const item of items) if (isKubeObject(item)) next.set(keyOf(item), deepFreeze(item));
    if (!this.synced) {
      this.objects = next;
      this.rv = listRV;
      // Nothing before the first list can be replayed.
      this.hub.resetFloor(listRV);
      this.synced = true;
      this.lastError = undefined;
      this.notify();
      return;
    }
    const old = this.objects;
    this.objects = next;
    const rv = Math.max(listRV, this.rv);
    this.rv = rv;
    for (const [key, before] of old) {
      const now = next.get(key);
      if (!now || (before.metadata.uid && now.metadata.uid !== before.metadata.uid)) {
        this.hub.publish({ type: 'DELETED', object: before, rv });
        if (now) this.hub.publish({ type: 'ADDED', object: now, rv });
      } else if (now.metadata.resourceVersion !== before.metadata.resourceVersion) {
        this.hub.publish({ type: 'MODIFIED', object: now, prev: before, rv });
      }
    }
    for (const [key, now] of next) if (!old.has(key)) this.hub.publish({ type: 'ADDED', object: now, rv });
    this.lastError = undefined;
    this.notify();
  }
}
