import { readFile, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { startDevServer, type DevServer } from '../support/dev-server.ts';
import { e2eScope } from '../support/e2e-scope.ts';
import { kubectlAgainst, type KubectlSession } from '../support/kubectl-session.ts';
import { porchRepo } from '../support/git-fixtures.ts';
import { packageRevisionYaml, repositoryYaml } from '../support/manifests.ts';
import { waitFor } from '../support/wait-for.ts';

// Cluster mode end to end, two real processes and the real kubectl:
//   (1) the dev gateway with --store-only, standing in for kube-apiserver: it serves the CRDs
//       (Repository, PackageRev…), Secrets and Namespaces, and nothing of porch.kpt.dev;
//   (2) porch-ts --mode cluster, pointed at (1) by the kubeconfig (1) wrote, serving porch.kpt.dev
//       with delegated authentication off (the dev gateway has no TokenReview/SubjectAccessReview).
// Between them sits a TLS proxy with (1)'s own certificate, so the test can hold back (2)'s watch
// streams, as a slow or broken network would, and make its cache fall behind on purpose.

interface WatchGate {
  url: string;
  /** Hold watch data back (requests and non-watch answers pass). */
  hold(): void;
  /** Deliver what was held and let data through again. */
  release(): void;
  close(): Promise<void>;
}

/** A reverse proxy to `target` that can hold back the data of watch streams. */
async function startWatchGate(target: string, certPem: string, keyPem: string): Promise<WatchGate> {
  let held = false;
  const flushers = new Set<() => void>();
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const isWatch = /[?&]watch=(true|1)(&|$)/.test(req.url ?? '');
    const headers = { ...req.headers };
    delete headers.host;
    const up = request(new URL(req.url ?? '/', target), { method: req.method, headers, ca: certPem }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      if (!isWatch || upRes.statusCode !== 200) {
        upRes.pipe(res);
        return;
      }
      const queue: Buffer[] = [];
      const flush = () => {
        for (const chunk of queue.splice(0)) res.write(chunk);
      };
      flushers.add(flush);
      upRes.on('data', (chunk: Buffer) => (held ? queue.push(chunk) : res.write(chunk)));
      upRes.on('end', () => {
        flushers.delete(flush);
        // A stream that ends while held loses what was held: the client sees a broken connection.
        if (held) res.destroy();
        else res.end();
      });
      upRes.on('error', () => res.destroy());
    });
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    res.on('close', () => up.destroy());
    req.pipe(up);
  };
  const server: Server = createServer({ cert: certPem, key: keyPem }, handle);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold: () => (held = true),
    release: () => {
      held = false;
      for (const f of flushers) f();
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}


const repoYaml = (name: string, path: string) => repositoryYaml({ name, repo: path });

// Generous per-test time: restarts and relists on a loaded machine; every wait polls for its condition.
describe('cluster mode: porch-ts against a Kubernetes-style API server, with kubectl', { timeout: 180_000 }, () => {
  const scope = e2eScope('porch-cluster-e2e-');
  let api: DevServer;
  let porch: DevServer;
  let gate: WatchGate;
  const repos: Record<string, string> = {};

  const toApi = kubectlAgainst(() => api.kubeconfig);
  const toPorch = kubectlAgainst(() => porch.kubeconfig);
  const k1 = toApi.k;
  const k2 = toPorch.k;
  const names = async (on: KubectlSession, resource: string): Promise<string[]> =>
    (JSON.parse(await on.ok(['get', resource, '-o', 'json'])) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name).sort();
  const revisionsOf = async (repo: string) => (await names(toPorch, 'packagerevisions')).filter((n) => n.startsWith(`${repo}.`));

  beforeAll(async () => {
    repos.blueprints = porchRepo(scope.dir, 'blueprints', [{ path: 'basens', revisions: 2 }]);
    repos.catalog = porchRepo(scope.dir, 'catalog', [{ path: 'web', revisions: 1 }]);
    repos.scratch = porchRepo(scope.dir, 'scratch', [{ path: 'tmp', revisions: 1 }]);

    // Bookmarks rarely, so a held-back watch cannot learn the newest resourceVersion from one.
    api = scope.keep(await startDevServer({ args: ['--store-only', '--tls', '--sync-interval', '0'], env: { PORCH_BOOKMARK_INTERVAL_SECONDS: '3600' } }));
    const [certPem, keyPem] = await Promise.all([readFile(join(api.dataDir, 'serving.crt'), 'utf8'), readFile(join(api.dataDir, 'serving.key'), 'utf8')]);
    gate = scope.keep(await startWatchGate(api.url, certPem, keyPem), (g: WatchGate) => g.close());

    // The kubeconfig (1) wrote (its CA and admin token), with the proxy's address.
    const doc = YAML.parse(await readFile(api.kubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[] };
    doc.clusters[0].cluster.server = gate.url;
    const clusterKubeconfig = join(scope.dir, 'cluster-kubeconfig');
    await writeFile(clusterKubeconfig, YAML.stringify(doc));

    // Cluster mode opens no local repository unless it lies under a --local-repo-root.
    porch = scope.keep(await startDevServer({
      args: ['--mode', 'cluster', '--cluster-kubeconfig', clusterKubeconfig, '--delegated-auth=false', '--tls', '--sync-interval', '0', '--local-repo-root', scope.dir],
      startTimeoutMs: 90_000,
    }));
  });


  it('serves porch.kpt.dev only; the CRDs, Secrets and Namespaces stay with the API server', async () => {
    const served = (out: string) =>
      out
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)[0])
        .sort();
    expect(served(await toPorch.ok(['api-resources', '--no-headers']))).toEqual(['packagerevisionresources', 'packagerevisions', 'packages']);
    // The stand-in kube-apiserver also serves the review kinds kubectl auth uses, as kube-apiserver does.
    expect(served(await toApi.ok(['api-resources', '--no-headers']))).toEqual([
      'namespaces',
      'packagerevs',
      'packagevariants',
      'packagevariantsets',
      'repositories',
      'secrets',
      'selfsubjectaccessreviews',
      'selfsubjectreviews',
      'selfsubjectrulesreviews',
    ]);
    const notHere = await k2(['get', 'repositories']);
    expect(notHere.code).not.toBe(0);
    expect(notHere.stderr).toMatch(/the server doesn't have a resource type "repositories"/);
    const index = JSON.parse(await toPorch.ok(['get', '--raw', '/openapi/v3']));
    expect(Object.keys(index.paths)).toEqual(['apis/porch.kpt.dev/v1alpha1']);
    const configGroup = await k2(['get', '--raw', '/apis/config.porch.kpt.dev/v1alpha1']);
    expect(configGroup.code).not.toBe(0);
    expect(configGroup.stderr).toMatch(/NotFound|not found/);
  });

  it('lists the revisions of a Repository created in the API server, and writes its status there', async () => {
    await toApi.ok(['apply', '-f', '-'], repoYaml('blueprints', repos.blueprints));
    const listed = await waitFor('revisions of blueprints through porch', async () => {
      const n = await revisionsOf('blueprints');
      return n.length === 3 ? n : undefined;
    });
    expect(listed).toEqual(['blueprints.basens.main', 'blueprints.basens.v1', 'blueprints.basens.v2']);
    const repo = JSON.parse(await toApi.ok(['get', 'repository', 'blueprints', '-o', 'json']));
    expect(repo.status.conditions).toEqual([expect.objectContaining({ type: 'Ready', status: 'True', reason: 'Ready' })]);
    expect(repo.status.packageCount).toBe(1);
  });

  it('creates, proposes and approves through porch; the PackageRev lands in the API server', async () => {
    await toPorch.ok(['create', '-f', '-'], packageRevisionYaml({ repository: 'blueprints', packageName: 'app', workspaceName: 'first', labels: { team: 'a' } }));
    const name = 'blueprints.app.first';
    const rev = JSON.parse(await toApi.ok(['get', 'packagerev', name, '-o', 'json']));
    expect(rev.metadata.labels).toEqual({ team: 'a', 'internal.porch.kpt.dev/repository': 'blueprints' });

    const published = await toPorch.publish(name);
    expect(published.spec).toMatchObject({ lifecycle: 'Published', revision: 1 });
    expect(published.metadata.labels).toMatchObject({ team: 'a', 'kpt.dev/latest-revision': 'true' });
  });

  it("hands a 409 from the API server to porch's client as a 409", async () => {
    const name = 'blueprints.app.first';
    // (2)'s cache stops hearing about changes; another writer then changes the PackageRev in (1).
    gate.hold();
    try {
      await toApi.ok(['label', 'packagerev', name, 'other=x']);
      const refused = await k2(['label', 'packagerevision', name, 'team=b', '--overwrite']);
      expect(refused.code).not.toBe(0);
      // The resource named is (1)'s PackageRev, not (2)'s PackageRevision: the Status came from (1).
      expect(refused.stderr).toContain(
        `Error from server (Conflict): Operation cannot be fulfilled on packagerevs.config.porch.kpt.dev "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    } finally {
      gate.release();
    }
    // Once the cache has caught up the same change goes through.
    await waitFor('the label change to go through', async () => ((await k2(['label', 'packagerevision', name, 'team=b', '--overwrite'])).code === 0 ? true : undefined));
    const rev = JSON.parse(await toApi.ok(['get', 'packagerev', name, '-o', 'json']));
    expect(rev.metadata.labels).toMatchObject({ team: 'b', other: 'x' });
  });

  it('keeps its state across a restart of porch (it lives in the API server and git)', async () => {
    await porch.restart();
    const rev = await waitFor('the revision after the restart', async () => {
      const r = await k2(['get', 'packagerevision', 'blueprints.app.first', '-o', 'json']);
      return r.code === 0 ? JSON.parse(r.stdout) : undefined;
    });
    expect(rev.spec).toMatchObject({ lifecycle: 'Published', revision: 1 });
    expect(rev.metadata.labels).toMatchObject({ team: 'b', other: 'x', 'kpt.dev/latest-revision': 'true' });
    expect(await revisionsOf('blueprints')).toEqual(['blueprints.app.first', 'blueprints.app.main', 'blueprints.basens.main', 'blueprints.basens.v1', 'blueprints.basens.v2']);
  });

  it('takes the revisions of a Repository deleted in the API server out of porch', async () => {
    await toApi.ok(['apply', '-f', '-'], repoYaml('catalog', repos.catalog));
    await waitFor('revisions of catalog', async () => ((await revisionsOf('catalog')).length === 2 ? true : undefined));
    await toApi.ok(['delete', 'repository', 'catalog']);
    await waitFor('catalog revisions to go', async () => ((await revisionsOf('catalog')).length === 0 ? true : undefined));
    expect(await revisionsOf('blueprints')).toHaveLength(5);
  });

  it('lists again after 410 Gone and finds a deletion its watch never delivered', async () => {
    await toApi.ok(['apply', '-f', '-'], repoYaml('scratch', repos.scratch));
    await waitFor('revisions of scratch', async () => ((await revisionsOf('scratch')).length === 2 ? true : undefined));
    const relistsBefore = (porch.output().stderr.match(/watch resourceVersion too old; listing again/g) ?? []).length;

    // The DELETED event is held back and then lost with the connection when (1) restarts; (1)
    // starts with no watch history, so resuming from the old resourceVersion is 410 Gone.
    gate.hold();
    try {
      await toApi.ok(['delete', 'repository', 'scratch']);
      await api.restart();
    } finally {
      gate.release();
    }
    await waitFor('scratch revisions to go after the relist', async () => ((await revisionsOf('scratch')).length === 0 ? true : undefined), 90_000);
    const relists = porch.output().stderr.split('\n').filter((l) => l.includes('watch resourceVersion too old; listing again'));
    expect(relists.length).toBeGreaterThan(relistsBefore);
    expect(relists.some((l) => l.includes('"resource":"repositories.config.porch.kpt.dev"'))).toBe(true);

    // And the watch goes on after the relist: a new Repository shows up as before.
    await toApi.ok(['apply', '-f', '-'], repoYaml('scratch', repos.scratch));
    await waitFor('scratch back', async () => ((await revisionsOf('scratch')).length === 2 ? true : undefined));
    expect(await revisionsOf('blueprints')).toHaveLength(5);
  });
});
