import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parse as parseYaml } from 'yaml';
import { kubectl, startDevServer, type DevServer } from '../support/dev-server.ts';
import { git, porchRepo } from '../support/git-fixtures.ts';
import { repositoryYaml } from '../support/manifests.ts';

// Watches end to end: the real kubectl's `get -w` against the dev server, changes made by another
// kubectl and by a plain `git push` that only a periodic sync (--sync-interval 1s) can notice.

const KUBECTL = process.env.KUBECTL ?? (existsSync('/usr/bin/kubectl') ? '/usr/bin/kubectl' : 'kubectl');

/** A long-running `kubectl get -w`, its standard output read line by line as it arrives. */
class KubectlWatch {
  readonly lines: string[] = [];
  private stderr = '';
  private pending = '';
  private readonly waiters = new Set<() => void>();
  private exited = false;

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      this.pending += chunk;
      const parts = this.pending.split('\n');
      this.pending = parts.pop() ?? '';
      this.lines.push(...parts);
      for (const w of this.waiters) w();
    });
    child.stderr.on('data', (c: string) => (this.stderr += c));
    child.once('exit', () => {
      this.exited = true;
      for (const w of this.waiters) w();
    });
  }

  static start(kubeconfig: string, cacheDir: string, args: string[]): KubectlWatch {
    return new KubectlWatch(spawn(KUBECTL, ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  /** Resolves with the first line (from `from` on) matching, once kubectl has printed it. */
  async line(re: RegExp, what: string, from = 0, timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.lines.findIndex((l, idx) => idx >= from && re.test(l));
      if (i >= 0) return i;
      if (this.exited) throw new Error(`kubectl exited before ${what}\n${this.lines.join('\n')}\n${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; kubectl printed:\n${this.lines.join('\n')}\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.waiters.add(done);
      });
    }
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

describe('watches through kubectl against the dev server', () => {
  let dir: string;
  let cacheDir: string;
  let server: DevServer;
  let bare: string;
  const watches: KubectlWatch[] = [];
  const watch = (args: string[]) => {
    const w = KubectlWatch.start(server.kubeconfig, cacheDir, args);
    watches.push(w);
    return w;
  };
  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(args, { kubeconfig: server.kubeconfig, input });
    expect(r.code, `kubectl ${args.join(' ')}\n${r.stderr}`).toBe(0);
    return r.stdout;
  };

  const repoYaml = (name: string) => repositoryYaml({ name, repo: bare });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'porch-e2e-watch-'));
    cacheDir = join(dir, 'kubectl-cache');
    bare = porchRepo(dir, 'blueprints', [{ path: 'basens', revisions: 1 }]);
    server = await startDevServer({ args: ['--sync-interval', '1s'], env: { PORCH_BOOKMARK_INTERVAL_SECONDS: '1' } });
    await ok(['apply', '-f', '-'], repoYaml('blueprints'));
    const deadline = Date.now() + 90_000;
    while (!(await ok(['get', 'packagerevisions', '-o', 'name'])).includes('blueprints.basens.v1')) {
      if (Date.now() > deadline) throw new Error('the repository was never read');
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  afterAll(async () => {
    for (const w of watches) w.stop();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('kubectl get repositories -w sees a Repository another kubectl creates', async () => {
    const w = watch(['get', 'repositories', '-w', '--output-watch-events']);
    // Printed from the list; everything after it comes through the watch (kubectl resumes from the list's version).
    const listed = await w.line(/^ADDED\s+blueprints\s/, 'the existing repository');
    await ok(['apply', '-f', '-'], repoYaml('second'));
    await w.line(/^ADDED\s+second\s+git\b/, 'the created repository', listed + 1);
    // Its first sync writes status: the watch shows it ready.
    await w.line(/^MODIFIED\s+second\s.*\bTrue\b/, 'the repository becoming ready', listed + 1);
    await ok(['delete', 'repository', 'second']);
    await w.line(/^DELETED\s+second\s/, 'the deleted repository', listed + 1);
  });

  it('kubectl get packagerevisions -w and packagerevisionresources -w see a draft another kubectl creates', async () => {
    const revisions = watch(['get', 'packagerevisions', '-w', '--output-watch-events']);
    const resources = watch(['get', 'packagerevisionresources', '-w', '--output-watch-events']);
    const r0 = await revisions.line(/^ADDED\s+blueprints\.basens\.v1\s/, 'the published revision');
    const f0 = await resources.line(/^ADDED\s+blueprints\.basens\.v1\s/, 'the published revision resources');
    await ok(
      ['create', '-f', '-'],
      `
apiVersion: porch.kpt.dev/v1alpha1
kind: PackageRevision
metadata:
  namespace: default
spec:
  packageName: created
  workspaceName: ws1
  repository: blueprints
`,
    );
    // NAME PACKAGE WORKSPACENAME REVISION LATEST LIFECYCLE REPOSITORY
    await revisions.line(/^(ADDED|MODIFIED)\s+blueprints\.created\.ws1\s+created\s+ws1\s+0\s+false\s+Draft\s+blueprints\b/, 'the created draft', r0 + 1);
    // NAME PACKAGE WORKSPACENAME REVISION REPOSITORY FILES
    await resources.line(/^(ADDED|MODIFIED)\s+blueprints\.created\.ws1\s+created\s+ws1\s+0\s+blueprints\s+[1-9]\d*\s*$/, 'the created draft resources', f0 + 1);

    await ok(['delete', 'packagerevision', 'blueprints.created.ws1']);
    await revisions.line(/^DELETED\s+blueprints\.created\.ws1\s/, 'the deleted draft', r0 + 1);
    await resources.line(/^DELETED\s+blueprints\.created\.ws1\s/, 'the deleted draft resources', f0 + 1);
  });

  it('kubectl get packagerevisions -w sees a draft pushed straight to git, once a sync finds it', async () => {
    const revisions = watch(['get', 'packagerevisions', '-w', '--output-watch-events']);
    const r0 = await revisions.line(/^ADDED\s+blueprints\.basens\.v1\s/, 'the published revision');

    const work = join(dir, 'pusher');
    git(dir, ['clone', '-q', bare, work]);
    git(work, ['checkout', '-q', '-b', 'drafts/basens/pushed']);
    await writeFile(join(work, 'basens', 'pushed.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pushed\n');
    git(work, ['add', '.']);
    git(work, ['commit', '-qm', `Intermediate commit\n\nkpt:${JSON.stringify({ package: 'basens', workspaceName: 'pushed', revision: '0' })}`]);
    git(work, ['push', '-q', 'origin', 'drafts/basens/pushed']);
    await revisions.line(/^ADDED\s+blueprints\.basens\.pushed\s+basens\s+pushed\s+0\s+false\s+Draft\s+blueprints\b/, 'the pushed draft', r0 + 1);

    git(work, ['push', '-q', 'origin', '--delete', 'drafts/basens/pushed']);
    await revisions.line(/^DELETED\s+blueprints\.basens\.pushed\s/, 'the draft deleted in git', r0 + 1);
  });

  it('ends a raw chunked watch after timeoutSeconds, the events read by kubectl', async () => {
    const started = Date.now();
    const out = await ok(['get', '--raw', '/apis/porch.kpt.dev/v1alpha1/namespaces/default/packagerevisionresources?watch=true&timeoutSeconds=2']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    const events = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; object: { kind: string; metadata: { name: string }; spec: { resources?: Record<string, string> } } });
    const v1 = events.find((e) => e.object.metadata.name === 'blueprints.basens.v1');
    expect(v1?.type).toBe('ADDED');
    expect(v1?.object.kind).toBe('PackageRevisionResources');
    expect(Object.keys(v1?.object.spec.resources ?? {})).toContain('Kptfile');
  });

  it('serves a WebSocket watch with the kubeconfig token, with bookmarks at the configured interval', async () => {
    const kc = parseYaml(await readFile(server.kubeconfig, 'utf8')) as { users: { user: { token: string } }[] };
    const token = kc.users[0].user.token;
    const url = `${server.url.replace(/^http/, 'ws')}/apis/config.porch.kpt.dev/v1alpha1/namespaces/default/repositories?watch=true&allowWatchBookmarks=true`;
    const ws = new WebSocket(url, ['base64.binary.k8s.io'], { headers: { authorization: `Bearer ${token}` } });
    const events: { type: string; object: { kind: string; metadata: { name?: string; resourceVersion?: string } } }[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no periodic bookmark; got ${JSON.stringify(events.map((e) => e.type))}`)), 60_000);
        ws.on('message', (data: WebSocket.RawData) => {
          events.push(JSON.parse(Buffer.from(data.toString(), 'base64').toString('utf8')));
          // The first bookmark marks the end of the initial events; the second is a periodic one.
          if (events.filter((e) => e.type === 'BOOKMARK').length >= 2) {
            clearTimeout(timer);
            resolve();
          }
        });
        ws.once('error', reject);
      });
    } finally {
      ws.close();
    }
    expect(ws.protocol).toBe('base64.binary.k8s.io');
    expect(events[0]).toMatchObject({ type: 'ADDED', object: { kind: 'Repository', metadata: { name: 'blueprints' } } });
    const bookmark = events.filter((e) => e.type === 'BOOKMARK')[1];
    expect(bookmark.object.kind).toBe('Repository');
    expect(Number(bookmark.object.metadata.resourceVersion)).toBeGreaterThan(0);
  });
});
