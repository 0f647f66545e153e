import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PackageRevision } from '../../lib/api/porch.ts';
import type { AppContext } from '../../lib/context.ts';
import type { UserInfo } from '../../lib/auth/user.ts';
import { errors } from '../../lib/errors.ts';
import listPackageRevisionResources from '../../handlers/list-packagerevisionresources.ts';
import listPackageRevisions from '../../handlers/list-packagerevisions.ts';
import { blueprintsContext } from '../support/blueprints-context.ts';
import { jsonRequest } from '../support/context.ts';
import { named, WatchEvents, withTimeout, type WireEvent as WatchEvent } from '../support/watch-events.ts';

// The packagerevisionresources watch, its handler called alone: it follows the package revisions'
// events (same resourceVersions) with each revision's files read from git.

const NS = '/apis/porch.kpt.dev/v1alpha1/namespaces/default';
const USER: UserInfo = { username: 'tester', groups: ['system:authenticated'] };

interface WireObject {
  kind?: string;
  code?: number;
  reason?: string;
  metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> };
  spec?: { lifecycle?: string; packageName?: string; resources?: Record<string, string> };
  rows?: { cells: unknown[] }[];
}

type WireEvent = WatchEvent<WireObject>;

/** Reads a watch body as events. */
class Events extends WatchEvents<WireEvent> {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buf = '';

  constructor(res: Response) {
    super();
    if (!res.body) throw new Error('no body');
    this.reader = res.body.getReader();
  }

  async next(ms = 30_000): Promise<WireEvent | undefined> {
    for (;;) {
      const i = this.buf.indexOf('\n');
      if (i >= 0) {
        const ev = JSON.parse(this.buf.slice(0, i)) as WireEvent;
        this.buf = this.buf.slice(i + 1);
        this.seen.push(ev);
        return ev;
      }
      const { done, value } = await withTimeout(this.reader.read(), ms, 'the next watch event');
      if (done) return undefined;
      this.buf += this.decoder.decode(value, { stream: true });
    }
  }

  cancel(): Promise<void> {
    return this.reader.cancel();
  }
}

describe('packagerevisionresources watch', () => {
  let ctx: AppContext;
  let cleanup: () => Promise<void>;
  const opened: Events[] = [];

  const watch = async (query = '', headers: Record<string, string> = {}) => {
    const res = await listPackageRevisionResources(ctx).request(jsonRequest('GET', `${NS}/packagerevisionresources?watch=true${query}`, undefined, '', headers));
    if (res.status !== 200) throw new Error(`watch refused: ${res.status} ${await res.text()}`);
    const ev = new Events(res);
    opened.push(ev);
    return ev;
  };
  const watchRevisions = async (query = '') => {
    const res = await listPackageRevisions(ctx).request(jsonRequest('GET', `${NS}/packagerevisions?watch=true${query}`));
    const ev = new Events(res);
    opened.push(ev);
    return ev;
  };
  const draft = (pkg: string, ws: string) =>
    ({ apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevision', metadata: { namespace: 'default' }, spec: { packageName: pkg, workspaceName: ws, repository: 'blueprints' } }) as PackageRevision;

  beforeEach(async () => {
    ({ ctx, cleanup } = await blueprintsContext([{ path: 'basens', revisions: 1, drafts: ['wip'] }]));
  });
  afterEach(async () => {
    for (const e of opened.splice(0)) await e.cancel().catch(() => undefined);
    vi.restoreAllMocks();
    await cleanup();
  });

  it('starts with every revision and its files, in list order, then marks the end of the initial events', async () => {
    const w = await watch('&allowWatchBookmarks=true');
    const initial = await w.until((ev) => ev.type === 'BOOKMARK', 'the initial-events-end bookmark');
    const bookmark = initial.pop()!;
    expect(bookmark.object.metadata?.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
    expect(initial.map((e) => [e.type, e.object.kind, e.object.metadata?.name])).toEqual([
      ['ADDED', 'PackageRevisionResources', 'blueprints.basens.main'],
      ['ADDED', 'PackageRevisionResources', 'blueprints.basens.v1'],
      ['ADDED', 'PackageRevisionResources', 'blueprints.basens.wip'],
    ]);
    const wip = initial[2].object;
    expect(Object.keys(wip.spec?.resources ?? {}).sort()).toEqual(['Kptfile', 'cm.yaml', 'draft.yaml']);
    expect(wip.spec?.resources?.['draft.yaml']).toContain('name: wip');
    expect(Number(bookmark.object.metadata?.resourceVersion)).toBeGreaterThanOrEqual(Math.max(...initial.map((e) => Number(e.object.metadata?.resourceVersion))));
  });

  it('follows the revision events with the same resourceVersions: create, edit files, delete', async () => {
    const revisions = await watchRevisions();
    const w = await watch();
    // The last of the initial events, in namespace/name order.
    await w.until(named('blueprints.basens.wip'), 'the initial events');
    await revisions.until(named('blueprints.basens.wip'), 'the initial revision events');

    const created = await ctx.ops.create('default', draft('fresh', 'ws1'), USER);
    const name = created.metadata.name!;
    const added = await w.until(named(name), 'the new draft');
    expect(added.map((e) => e.type)).toEqual(['ADDED']);
    expect(Object.keys(added[0].object.spec?.resources ?? {})).toContain('Kptfile');

    const prr = await ctx.ops.getResources('default', name);
    await ctx.ops.updateResources('default', name, { ...prr, spec: { ...prr.spec, resources: { ...prr.spec.resources, 'extra.yaml': 'a: 1\n' } } }, USER);
    const modified = (await w.until((ev) => named(name)(ev) && 'extra.yaml' in (ev.object.spec?.resources ?? {}), 'the edited files')).pop()!;
    expect(modified.type).toBe('MODIFIED');
    expect(modified.object.spec?.resources?.['extra.yaml']).toBe('a: 1\n');

    await ctx.ops.delete('default', name, {});
    const deleted = (await w.until(named(name, 'DELETED'), 'the deletion')).pop()!;
    expect(deleted.object.kind).toBe('PackageRevisionResources');
    expect(deleted.object.spec?.packageName).toBe('fresh');
    expect(deleted.object.spec?.resources).toBeUndefined();

    // Every version the resources watch showed is one the revisions watch showed, in the same order.
    const revEvents = await revisions.until(named(name, 'DELETED'), 'the revision deletion');
    const revVersions = revEvents.filter(named(name)).map((e) => e.object.metadata?.resourceVersion);
    const prrVersions = w.seen.filter(named(name)).map((e) => e.object.metadata?.resourceVersion);
    expect(prrVersions.length).toBeGreaterThanOrEqual(3);
    expect(revVersions.filter((v) => prrVersions.includes(v))).toEqual(prrVersions);
    expect(prrVersions.at(-1)).toBe(revVersions.at(-1));
  });

  it('resumes from a resourceVersion and refuses one older than the history with 410 Expired', async () => {
    const from = ctx.engine.currentResourceVersion();
    const created = await ctx.ops.create('default', draft('later', 'ws'), USER);
    const w = await watch(`&resourceVersion=${from}`);
    const first = await w.next();
    expect(first?.type).toBe('ADDED');
    expect(first?.object.metadata?.name).toBe(created.metadata.name);
    expect(Number(first?.object.metadata?.resourceVersion)).toBeGreaterThan(Number(from));

    const res = await listPackageRevisionResources(ctx).request(jsonRequest('GET', `${NS}/packagerevisionresources?watch=true&resourceVersion=1`));
    expect(res.status).toBe(410);
    expect(await res.json()).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    expect(ctx.engine.revisionHub.size).toBe(1);
    const bad = await listPackageRevisionResources(ctx).request(jsonRequest('GET', `${NS}/packagerevisionresources?watch=true&resourceVersion=soon`));
    expect(bad.status).toBe(400);
  });

  it('applies field selectors to every event: a revision leaving the selection is DELETED', async () => {
    const w = await watch('&fieldSelector=spec.lifecycle=Draft');
    const initial = await w.until(named('blueprints.basens.wip'), 'the existing draft');
    expect(initial.map((e) => e.object.metadata?.name)).toEqual(['blueprints.basens.wip']);
    const created = await ctx.ops.create('default', draft('moving', 'ws'), USER);
    await w.until(named(created.metadata.name!, 'ADDED'), 'the draft');
    const current = ctx.engine.getRevision('default', created.metadata.name!).pr;
    await ctx.ops.update('default', created.metadata.name!, { ...current, spec: { ...current.spec, lifecycle: 'Proposed' } } as PackageRevision, USER);
    const left = (await w.until(named(created.metadata.name!, 'DELETED'), 'the proposed revision leaving')).pop()!;
    expect(left.object.metadata?.name).toBe(created.metadata.name);
    expect(left.object.spec?.resources).toBeUndefined();
  });

  it('serves the legacy /watch/ path and Table output', async () => {
    const res = await listPackageRevisionResources(ctx).request(
      jsonRequest('GET', `/apis/porch.kpt.dev/v1alpha1/watch/namespaces/default/packagerevisionresources/blueprints.basens.wip`, undefined, '', {
        accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
      }),
    );
    expect(res.status).toBe(200);
    const w = new Events(res);
    opened.push(w);
    const ev = await w.next();
    expect(ev?.type).toBe('ADDED');
    expect(ev?.object.kind).toBe('Table');
    // NAME PACKAGE WORKSPACENAME REVISION REPOSITORY FILES
    expect(ev?.object.rows?.[0].cells).toEqual(['blueprints.basens.wip', 'basens', 'wip', 0, 'blueprints', 3]);
  });

  it('reads each revision version from git once however many watchers follow it', async () => {
    const spy = vi.spyOn(ctx.ops, 'getResources');
    const watchers = await Promise.all(Array.from({ length: 200 }, () => watch('&fieldSelector=spec.packageName=shared')));
    const created = await ctx.ops.create('default', draft('shared', 'ws'), USER);
    await Promise.all(watchers.map((w) => w.until(named(created.metadata.name!), 'the shared draft')));
    // One read per version published for it (the draft may be announced and then get its metadata).
    const versions = new Set(watchers.flatMap((w) => w.seen.map((e) => e.object.metadata?.resourceVersion)));
    expect(spy.mock.calls.length).toBeGreaterThan(0);
    expect(spy.mock.calls.length).toBeLessThanOrEqual(versions.size + 2);
  });

  it('ends the watch with an ERROR Status when the files cannot be read', async () => {
    const w = await watch('&fieldSelector=spec.packageName=broken');
    vi.spyOn(ctx.ops, 'getResources').mockRejectedValue(errors.unavailable('git repository unavailable: boom', 5));
    await ctx.ops.create('default', draft('broken', 'ws'), USER);
    const ev = await w.next();
    expect(ev).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 503, reason: 'ServiceUnavailable' } });
    expect(await w.next()).toBeUndefined();
    expect(ctx.engine.revisionHub.size).toBe(0);
  });

  it('unsubscribes from the revision hub when the client goes away', async () => {
    const ws = await Promise.all([watch(), watch('&fieldSelector=spec.lifecycle=Draft'), watch('&resourceVersion=' + ctx.engine.currentResourceVersion())]);
    expect(ctx.engine.revisionHub.size).toBe(3);
    for (const w of ws) await w.cancel();
    expect(ctx.engine.revisionHub.size).toBe(0);
  });
});
