import { Hono } from 'hono';
import type { KubeObject } from '../lib/api/meta.ts';
import type { PackageRevision } from '../lib/api/porch.ts';
import type { AppContext } from '../lib/context.ts';
import { normaliseRevisionFieldSelector, revisionMatcher } from '../lib/engine/fields.ts';
import { StatusError } from '../lib/errors.ts';
import { deepFreeze } from '../lib/util.ts';
import { OrderedProjection } from '../lib/watch/projection.ts';
import { RecentResults } from '../lib/watch/recent.ts';
import { endpoint } from './http/endpoint.ts';
import type { HandlerEnv } from './http/env.ts';
import { allNamespacesPath, collectionPath, watchPaths } from './http/paths.ts';
import { PACKAGEREVISIONRESOURCES } from './http/porch-input.ts';
import { listQuery } from './http/query.ts';
import { listResponse, negotiate } from './http/respond.ts';
import { watchStart } from './http/hub-watch.ts';
import { watchResponse, type AsyncWatchSource } from './http/watch-stream.ts';

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

// Every watcher reaching the same revision version shares one git read, also across instances of
// this handler built around the same operations.
const readsByOps = new WeakMap<object, RecentResults<KubeObject | undefined>>();

function recentReads(ctx: AppContext): RecentResults<KubeObject | undefined> {
  let r = readsByOps.get(ctx.ops);
  if (!r) readsByOps.set(ctx.ops, (r = new RecentResults<KubeObject | undefined>(64, READ_CONCURRENCY)));
  return r;
}

/**
 * GET packagerevisionresources: the files of every matching revision (read from git on demand), and
 * their watch, which follows the package revisions' events with each revision's files read for it.
 */
export default function listPackageRevisionResources(ctx: AppContext) {
  const app = new Hono<HandlerEnv>();
  const recent = recentReads(ctx);

  /** The resources of exactly this version of the revision, or undefined if it has moved on. */
  const readVersion = (pr: PackageRevision): Promise<KubeObject | undefined> => {
    const namespace = pr.metadata.namespace ?? '';
    const name = pr.metadata.name ?? '';
    const rv = pr.metadata.resourceVersion ?? '';
    return recent.get(`${namespace}/${name}@${rv}`, async () => {
      try {
        const prr = await ctx.ops.getResources(namespace, name);
        return prr.metadata.resourceVersion === rv ? deepFreeze(prr) : undefined;
      } catch (err) {
        // Deleted since: its DELETED event follows in the same stream.
        if (err instanceof StatusError && err.code === 404) return undefined;
        throw err;
      }
    });
  };

  const run = (forceWatch: boolean) =>
    endpoint(ctx.log, async (c) => {
      const q = listQuery(c);
      const namespace = q.namespace;
      const match = revisionMatcher(namespace, q.labelSelector, normaliseRevisionFieldSelector(q.fieldSelector));
      const table = negotiate(c).table;
      if (q.watch || forceWatch) {
        const from = watchStart(q.resourceVersion);
        let projection: OrderedProjection<PackageRevision, KubeObject> | undefined;
        return watchResponse({
          res: PACKAGEREVISIONRESOURCES,
          table,
          timeoutSeconds: q.timeoutSeconds,
          bookmarks: q.allowWatchBookmarks,
          initialEventsEnd: q.sendInitialEvents || from === undefined,
          currentResourceVersion: () => projection?.resourceVersion() ?? ctx.engine.currentResourceVersion(),
          subscribe: (send, fail): AsyncWatchSource => {
            const snapshot = ctx.engine.currentResourceVersion();
            const p = new OrderedProjection<PackageRevision, KubeObject>({
              read: readVersion,
              deleted: withoutResources,
              send,
              fail,
              currentResourceVersion: () => ctx.engine.currentResourceVersion(),
              startResourceVersion: from === undefined ? snapshot : String(from),
            });
            projection = p;
            // Listing and subscribing in one synchronous step leaves no gap for an event to fall into.
            if (from === undefined) for (const pr of ctx.engine.listRevisions(namespace, match)) p.push({ type: 'ADDED', object: pr }, Number(snapshot));
            let unsubscribe: () => void;
            try {
              unsubscribe = ctx.engine.revisionHub.subscribe({ fromRV: from, filter: match, send: (ev) => p.push(ev) });
            } catch (err) {
              p.close();
              throw err;
            }
            return {
              unsubscribe: () => {
                unsubscribe();
                p.close();
              },
              initialEvents: p.barrier().then(() => (from === undefined ? snapshot : p.resourceVersion())),
            };
          },
          onShutdown: ctx.shutdown.onShutdown,
        });
      }
      const revisions = ctx.engine.listRevisions(namespace, match);
      const items = new Array<KubeObject>(revisions.length);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(READ_CONCURRENCY, revisions.length) }, async () => {
          for (let i = next++; i < revisions.length; i = next++)
            items[i] = await ctx.ops.getResources(revisions[i].metadata.namespace ?? '', revisions[i].metadata.name ?? '');
        }),
      );
      return listResponse(c, PACKAGEREVISIONRESOURCES, items, ctx.engine.currentResourceVersion());
    });
  app.get(collectionPath(PACKAGEREVISIONRESOURCES), run(false));
  app.get(allNamespacesPath(PACKAGEREVISIONRESOURCES), run(false));
  for (const p of watchPaths(PACKAGEREVISIONRESOURCES)) app.get(p, run(true));
  return app;
}
