import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../lib/api/meta.ts';
import { findResource } from '../../lib/api/resources.ts';
import { StatusError } from '../../lib/errors.ts';
import { silentLogger } from '../../lib/log.ts';
import { ClusterStore } from '../../lib/store/cluster.ts';
import { KubeClient } from '../../lib/store/kube-client.ts';
import type { WatchEvent } from '../../lib/watch/types.ts';
import { startDevServer, type DevServer } from '../support/dev-server.ts';

// ClusterStore against a real Kubernetes-style API over HTTPS: the dev gateway in --store-only mode
// (a child process), standing in for kube-apiserver with the CRDs, Secrets and Namespaces.

const REPOSITORIES = findResource('config.porch.kpt.dev', 'v1alpha1', 'repositories')!;
const PACKAGEREVS = findResource('config.porch.kpt.dev', 'v1alpha1', 'packagerevs')!;
const NAMESPACES = findResource('', 'v1', 'namespaces')!;
const SECRETS = findResource('', 'v1', 'secrets')!;

function rev(name: string, labels: Record<string, string> = {}, extra: Partial<KubeObject['metadata']> = {}): KubeObject {
  return { apiVersion: '', kind: 'PackageRev', metadata: { name, namespace: 'default', labels, ...extra }, spec: {} };
}

async function failure(p: Promise<unknown>): Promise<StatusError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof StatusError)) throw new Error(`expected a StatusError, got ${String(err)}`);
  return err;
}

describe('ClusterStore against the dev gateway as a stand-in kube-apiserver', () => {
  let server: DevServer;
  let store: ClusterStore;

  beforeAll(async () => {
    server = await startDevServer({ args: ['--store-only', '--tls', '--sync-interval', '0'], logLevel: 'warn' });
    store = await ClusterStore.open({ client: KubeClient.fromKubeconfigFile(server.kubeconfig), log: silentLogger, prefetch: [REPOSITORIES, PACKAGEREVS, NAMESPACES] });
  });

  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  it('creates through the API server and reads its own write from the cache at once', async () => {
    const created = await store.create(PACKAGEREVS, rev('rw.one', { team: 'a' }));
    expect(created.apiVersion).toBe('config.porch.kpt.dev/v1alpha1');
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(created.metadata.resourceVersion)).toBeGreaterThan(0);
    expect(await store.get(PACKAGEREVS, 'default', 'rw.one')).toEqual(created);
    await store.create(PACKAGEREVS, rev('rw.two', { team: 'b' }));
    const { items, resourceVersion } = await store.list(PACKAGEREVS, { namespace: 'default', labelSelector: [{ key: 'team', op: 'eq', value: 'a' }] });
    expect(items.map((i) => i.metadata.name)).toEqual(['rw.one']);
    expect(Number(resourceVersion)).toBeGreaterThanOrEqual(Number(created.metadata.resourceVersion));
    const byName = await store.list(PACKAGEREVS, { fieldSelector: [{ field: 'metadata.name', op: 'eq', value: 'rw.two' }] });
    expect(byName.items.map((i) => i.metadata.name)).toEqual(['rw.two']);
    expect((await store.get(NAMESPACES, undefined, 'default'))?.metadata.name).toBe('default');
  });

  it("passes the API server's Status errors on with their code, reason, message and details", async () => {
    const cur = await store.create(PACKAGEREVS, rev('conflict.one'));
    await store.update(PACKAGEREVS, { ...cur, metadata: { ...cur.metadata, labels: { v: '2' } } });

    const stale = await failure(store.update(PACKAGEREVS, { ...cur, metadata: { ...cur.metadata, labels: { v: '3' } } }));
    expect(stale.toStatus()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      code: 409,
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on packagerevs.config.porch.kpt.dev "conflict.one": the object has been modified; please apply your changes to the latest version and try again',
      details: { name: 'conflict.one', group: 'config.porch.kpt.dev', kind: 'packagerevs' },
    });

    const dup = await failure(store.create(PACKAGEREVS, rev('conflict.one')));
    expect(dup.toStatus()).toMatchObject({ code: 409, reason: 'AlreadyExists', message: 'packagerevs.config.porch.kpt.dev "conflict.one" already exists' });

    const missing = await failure(store.update(PACKAGEREVS, { ...rev('nothere'), metadata: { ...rev('nothere').metadata, resourceVersion: '1' } }));
    expect(missing.toStatus()).toMatchObject({ code: 404, reason: 'NotFound', details: { name: 'nothere', kind: 'packagerevs' } });

    const invalid = await failure(
      store.create(REPOSITORIES, { apiVersion: '', kind: 'Repository', metadata: { name: 'bad', namespace: 'default' }, spec: { type: 'git', git: { repo: 'ftp://example.com/x' } } }),
    );
    expect(invalid.code).toBe(422);
    expect(invalid.reason).toBe('Invalid');
    expect(invalid.details?.causes).toEqual([
      { reason: 'FieldValueInvalid', field: 'spec.git.repo', message: 'Invalid value: "ftp://example.com/x": must be an http(s):// or file:// URL or an absolute path' },
    ]);

    const noNs = await failure(store.create(PACKAGEREVS, { ...rev('x'), metadata: { name: 'x', namespace: 'no-such-namespace' } }));
    expect(noNs.toStatus()).toMatchObject({ code: 404, reason: 'NotFound', message: 'namespaces "no-such-namespace" not found' });

    const wrongUid = await failure(store.delete(PACKAGEREVS, 'default', 'conflict.one', { uid: 'not-the-uid' }));
    expect(wrongUid.code).toBe(409);
    expect(wrongUid.message).toMatch(/Precondition failed: UID in precondition: not-the-uid/);
    expect(await store.get(PACKAGEREVS, 'default', 'conflict.one')).toBeDefined();
  });

  it('updates without a resourceVersion unconditionally, and writes status only through the subresource', async () => {
    const repo = await store.create(REPOSITORIES, {
      apiVersion: '',
      kind: 'Repository',
      metadata: { name: 'status-repo', namespace: 'default' },
      spec: { type: 'git', git: { repo: '/nonexistent/repo.git', branch: 'main' } },
    });
    expect(repo.metadata.generation).toBe(1);
    const withStatus = await store.update(REPOSITORIES, { ...repo, status: { packageCount: 3 } }, { subresource: 'status' });
    expect(withStatus.status).toEqual({ packageCount: 3 });
    expect(withStatus.metadata.generation).toBe(1);
    const { resourceVersion: _drop, ...meta } = withStatus.metadata;
    const edited = await store.update(REPOSITORIES, { ...withStatus, metadata: meta, spec: { ...(withStatus.spec as object), description: 'x' }, status: { packageCount: 99 } });
    expect(edited.metadata.generation).toBe(2);
    expect(edited.status).toEqual({ packageCount: 3 });
    expect((await store.get(REPOSITORIES, 'default', 'status-repo'))?.metadata.resourceVersion).toBe(edited.metadata.resourceVersion);
  });

  it('marks an object with finalizers for deletion and removes it once they are gone', async () => {
    await store.create(PACKAGEREVS, rev('final.one', {}, { finalizers: ['example.com/hold'] }));
    const marked = await store.delete(PACKAGEREVS, 'default', 'final.one');
    expect(marked.metadata.deletionTimestamp).toBeTruthy();
    const cached = await store.get(PACKAGEREVS, 'default', 'final.one');
    expect(cached?.metadata.deletionTimestamp).toBe(marked.metadata.deletionTimestamp);
    await store.update(PACKAGEREVS, { ...cached!, metadata: { ...cached!.metadata, finalizers: [] } });
    expect(await store.get(PACKAGEREVS, 'default', 'final.one')).toBeUndefined();

    await store.create(PACKAGEREVS, rev('plain.one'));
    const last = await store.delete(PACKAGEREVS, 'default', 'plain.one');
    expect(last.metadata.name).toBe('plain.one');
    expect(await store.get(PACKAGEREVS, 'default', 'plain.one')).toBeUndefined();
  });

  it('serves watches from the cache: current state, resume from a resourceVersion, 410 before its history', async () => {
    const a = await store.create(PACKAGEREVS, rev('watch.a', { w: 'yes' }));
    const now: WatchEvent[] = [];
    const stopNow = store.watch(PACKAGEREVS, { namespace: 'default', labelSelector: [{ key: 'w', op: 'exists' }], send: (e) => now.push(e) });
    expect(now.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED watch.a']);

    const b = await store.create(PACKAGEREVS, rev('watch.b', { w: 'yes' }));
    await store.update(PACKAGEREVS, { ...a, metadata: { ...a.metadata, labels: {} } });
    expect(now.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED watch.a', 'ADDED watch.b', 'DELETED watch.a']);
    stopNow();

    const resumed: WatchEvent[] = [];
    const stopResumed = store.watch(PACKAGEREVS, { resourceVersion: b.metadata.resourceVersion, send: (e) => resumed.push(e) });
    expect(resumed.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['MODIFIED watch.a']);
    stopResumed();

    // currentResourceVersion() is the newest of all caches; a watch from it misses nothing that comes later.
    const later: WatchEvent[] = [];
    const stopLater = store.watch(PACKAGEREVS, { resourceVersion: store.currentResourceVersion(), send: (e) => later.push(e) });
    await store.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'watch-ns' } });
    await store.delete(PACKAGEREVS, 'default', 'watch.b');
    expect(later.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['DELETED watch.b']);
    stopLater();

    const gone = await failure(Promise.resolve().then(() => store.watch(PACKAGEREVS, { resourceVersion: '1', send: () => undefined })));
    expect(gone.toStatus()).toMatchObject({ code: 410, reason: 'Expired' });
    expect(() => store.watch(PACKAGEREVS, { resourceVersion: 'abc', send: () => undefined })).toThrow(/invalid resourceVersion/);
  });

  it('reads Secrets straight from the API server, without caching them', async () => {
    await store.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'default' }, type: 'Opaque', data: { password: Buffer.from('pw').toString('base64') } });
    const secret = await store.get(SECRETS, 'default', 'creds');
    expect(Buffer.from(String((secret?.data as Record<string, string>).password), 'base64').toString()).toBe('pw');
    expect(await store.get(SECRETS, 'default', 'absent')).toBeUndefined();
    expect(() => store.watch(SECRETS, { send: () => undefined })).toThrow(/not supported by the cluster store/);
    const { items } = await store.list(SECRETS, { namespace: 'default' });
    expect(items.map((s) => s.metadata.name)).toContain('creds');
  });

  it('reports an unreachable API server as 503 ServiceUnavailable', async () => {
    const config = KubeClient.fromKubeconfigFile(server.kubeconfig).config;
    // Port 1 on loopback: nothing listens there.
    config.clusters = config.clusters.map((c) => ({ ...c, server: 'https://127.0.0.1:1' }));
    const unreachable = new KubeClient(config, { timeoutMs: 5_000 });
    const err = await failure(unreachable.getObject(NAMESPACES, undefined, 'default'));
    expect(err.toStatus()).toMatchObject({ code: 503, reason: 'ServiceUnavailable', details: { retryAfterSeconds: 1 } });
    expect(err.message).toMatch(/Kubernetes API server is unreachable/);
  });
});
