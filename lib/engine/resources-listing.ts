import type { KubeObject } from '../api/meta.ts';
import type { PackageRevision } from '../api/porch.ts';
import { StatusError } from '../errors.ts';
import { deepFreeze } from '../util.ts';
import { OrderedProjection } from '../watch/projection.ts';
import { RecentResults } from '../watch/recent.ts';
import type { WatchEvent } from '../watch/types.ts';
import type { Engine } from './engine.ts';
import type { RevisionOperations } from './operations.ts';

const READ_CONCURRENCY = 16;

/** A revision's resources object without its files: what a DELETED event carries. */
function withoutResources(pr: PackageRevision): KubeObject {
  return {
    apiVersion: pr.apiVersion,
    kind: 'PackageRevisionResources',
    metadata: pr.metadata,
    spec: {
      packageName: pr.spec.packageName ?? '',
      workspaceName: pr.spec.workspaceName ?? '',
      ...(pr.spec.revision ? { revision: pr.spec.revision } : {}),
      repository: pr.spec.repository ?? '',
    },
    status: {},
  };
}

export interface ResourcesFollowOptions {
  namespace: string | undefined;
  match: (pr: PackageRevision) => boolean;
  /** Resume after this resourceVersion; undefined: the current selection as ADDED first. */
  from: number | undefined;
  send: (ev: WatchEvent) => void;
  fail: (err: unknown) => void;
}

export interface ResourcesFollow {
  unsubscribe: () => void;
  /** Resolves with the resourceVersion the initial events end at, once they have all been sent. */
  initialEvents: Promise<string>;
  /** The version a bookmark may carry: every event up to it has been sent. */
  resourceVersion: () => string;
}

/**
 * PackageRevisionResources as a list and as a watch: the files of each revision are read from git on
 * demand, and every watcher reaching the same revision version shares one read.
 */
export class ResourcesListing {
  private readonly recent = new RecentResults<KubeObject | undefined>(64, READ_CONCURRENCY);

  constructor(
    private readonly engine: Engine,
    private readonly ops: RevisionOperations,
  ) {}

  /** The resources of every matching revision, in list order, read a bounded number at a time. */
  async list(namespace: string | undefined, match: (pr: PackageRevision) => boolean): Promise<KubeObject[]> {
    const revisions = this.engine.listRevisions(namespace, match);
    const items = new Array<KubeObject>(revisions.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(READ_CONCURRENCY, revisions.length) }, async () => {
        for (let i = next++; i < revisions.length; i = next++)
          items[i] = await this.ops.getResources(revisions[i].metadata.namespace ?? '', revisions[i].metadata.name ?? '');
      }),
    );
    return items;
  }

  /** Follows the package revisions' events with each revision's files read for it, in event order. */
  follow(opts: ResourcesFollowOptions): ResourcesFollow {
    const snapshot = this.engine.currentResourceVersion();
    const p = new OrderedProjection<PackageRevision, KubeObject>({
      read: (pr) => this.readVersion(pr),
      deleted: withoutResources,
      send: opts.send,
      fail: opts.fail,
      currentResourceVersion: () => this.engine.currentResourceVersion(),
      startResourceVersion: opts.from === undefined ? snapshot : String(opts.from),
    });
    // Listing and subscribing in one synchronous step leaves no gap for an event to fall into.
    if (opts.from === undefined)
      for (const pr of this.engine.listRevisions(opts.namespace, opts.match)) p.push({ type: 'ADDED', object: pr }, Number(snapshot));
    let unsubscribe: () => void;
    try {
      unsubscribe = this.engine.revisionHub.subscribe({ fromRV: opts.from, filter: opts.match, send: (ev) => p.push(ev) });
    } catch (err) {
      p.close();
      throw err;
    }
    return {
      unsubscribe: () => {
        unsubscribe();
        p.close();
      },
      initialEvents: p.barrier().then(() => (opts.from === undefined ? snapshot : p.resourceVersion())),
      resourceVersion: () => p.resourceVersion(),
    };
  }

  /** The resources of exactly this version of the revision, or undefined if it has moved on. */
  private readVersion(pr: PackageRevision): Promise<KubeObject | undefined> {
    const namespace = pr.metadata.namespace ?? '';
    const name = pr.metadata.name ?? '';
    const rv = pr.metadata.resourceVersion ?? '';
    return this.recent.get(`${namespace}/${name}@${rv}`, async () => {
      try {
        const prr = await this.ops.getResources(namespace, name);
        return prr.metadata.resourceVersion === rv ? deepFreeze(prr) : undefined;
      } catch (err) {
        // Deleted since: its DELETED event follows in the same stream.
        if (err instanceof StatusError && err.code === 404) return undefined;
        throw err;
      }
    });
  }
}

// One listing per set of operations, so watchers of every handler instance built around the same
// operations share their reads.
const listings = new WeakMap<RevisionOperations, ResourcesListing>();

export function resourcesListing(engine: Engine, ops: RevisionOperations): ResourcesListing {
  let l = listings.get(ops);
  if (!l) listings.set(ops, (l = new ResourcesListing(engine, ops)));
  return l;
}
