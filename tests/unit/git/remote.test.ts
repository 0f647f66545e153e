import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGitRepository, revisionKey, type IsoGitRepository } from '../../../lib/git/repository.ts';
import { approvalCommitMessage } from '../../../lib/git/trailer.ts';
import { GitConflictError, GitUnavailableError, type GitAuth, type GitPackageRevision } from '../../../lib/git/types.ts';
import { createBareRepo, fsck, git, kptfile, packageFiles, PorchRepoWriter, tempDir } from '../../support/git-fixtures.ts';
import { startGitServer, type GitServer } from '../../support/git-server.ts';

const ALICE = { name: 'Alice', email: 'alice@example.com' };
const BASIC: GitAuth = { kind: 'basic', username: 'porch', password: 's3cret' };
const tmp = tempDir();
let server: GitServer;
let n = 0;
let lastWorkDir = '';

/** The methods of the receive-pack requests (advertisements and pushes) among `requests`. */
function pushes(requests: readonly string[]): string[] {
  return requests.filter((r) => r.includes('git-receive-pack')).map((r) => r.split(' ')[0]);
}

beforeAll(async () => {
  server = await startGitServer({ root: tmp.path, username: 'porch', password: 's3cret' });
});

afterAll(async () => {
  await server.stop();
  tmp.remove();
});

let seed: PorchRepoWriter | undefined;

/** A repository of its own for the caller: a copy of one written once. */
function seeded(): PorchRepoWriter {
  if (!seed) {
    seed = PorchRepoWriter.create(join(tmp.path, 'seed', 'remote.git'));
    seed.publish('net/basens', 'ws1', 1, { task: { type: 'init', init: {} } });
    seed.publish('net/basens', 'ws2', 2, { task: { type: 'edit', edit: {} } });
    seed.draft('app', 'ws1');
  }
  return seed.copyTo(join(tmp.path, `remote${++n}.git`));
}

function connect(w: PorchRepoWriter | string, opts: { auth?: GitAuth; createBranch?: boolean; timeoutMs?: number; url?: string } = {}): IsoGitRepository {
  const name = typeof w === 'string' ? w : w.gitdir.slice(tmp.path.length + 1);
  return openGitRepository({
    url: opts.url ?? `${server.url}/${name}`,
    branch: 'main',
    directory: '',
    createBranch: opts.createBranch ?? false,
    auth: 'auth' in opts ? opts.auth : BASIC,
    workDir: (lastWorkDir = join(tmp.path, `work-${++n}`)),
    timeoutMs: opts.timeoutMs ?? 20_000,
  });
}

function summary(list: readonly GitPackageRevision[]): string[] {
  return list.map((r) => `${r.kind} ${r.packagePath} ${r.workspace} ${r.revision} ${r.commit} ${r.tree}`).sort();
}

const WEB_PROPOSED = 'refs/heads/proposed/web/ws1';
const WEB_V1 = 'refs/tags/web/v1';

/** A remote of its own, opened, on which this client has proposed package web (a Kptfile alone). */
async function proposedWeb(): Promise<{ w: PorchRepoWriter; remote: IsoGitRepository; src: string }> {
  const w = seeded();
  const remote = connect(w);
  await remote.open();
  const src = await remote.commitPackage({ ref: WEB_PROPOSED, packagePath: 'web', resources: { Kptfile: kptfile('web') }, message: 'm', author: ALICE, expectedOld: null });
  return { w, remote, src };
}

const publishWeb = (remote: IsoGitRepository, src: string) => remote.publish({ packagePath: 'web', sourceRef: WEB_PROPOSED, sourceCommit: src, tag: WEB_V1, message: 'm', author: ALICE });

function parents(w: PorchRepoWriter, commit: string): string[] {
  return w.git(['rev-list', '--parents', '-n1', commit]).split(' ').slice(1);
}

describe('a remote over smart HTTP with basic auth', () => {
  it('lists the same revisions as the repository itself', async () => {
    const w = seeded();
    w.tag('net/basens/v3', w.head()!, true);
    const remote = connect(w);
    await remote.open();
    const local = openGitRepository({ url: w.gitdir, branch: 'main', directory: '', createBranch: false, workDir: tmp.path });
    const [r, l] = [await remote.listRevisions(), await local.listRevisions()];
    expect(summary(r.revisions)).toEqual(summary(l.revisions));
    expect(r.branchCommit).toBe(w.head());
    expect(r.revisions.find((x) => x.ref === 'refs/tags/net/basens/v3')?.commit).toBe(w.head());
    const v2 = r.revisions.find((x) => x.ref === 'refs/tags/net/basens/v2')!;
    expect(await remote.readResources(v2.commit, 'net/basens')).toEqual(await local.readResources(v2.commit, 'net/basens'));
    await remote.close();
  });

  it('syncs with one advertisement: the fetch starts from the one the sync listed', async () => {
    const w = seeded();
    const remote = connect(w);
    const before = server.requests.length;
    await remote.open();
    const name = w.gitdir.slice(tmp.path.length);
    expect(server.requests.slice(before)).toEqual([`GET ${name}/info/refs?service=git-upload-pack`, `POST ${name}/git-upload-pack`]);
    // A listing asks the remote again, and fetches nothing when nothing moved.
    const again = server.requests.length;
    const { revisions } = await remote.listRevisions();
    expect(server.requests.slice(again)).toEqual([`GET ${name}/info/refs?service=git-upload-pack`]);
    expect(revisions.map((r) => r.ref)).toContain('refs/tags/net/basens/v2');
    await remote.close();
  });

  it('follows changes made on the remote, incrementally', async () => {
    const w = seeded();
    const remote = connect(w);
    await remote.open();
    const first = await remote.listRevisions();
    const prev = new Map(first.revisions.map((r) => [revisionKey(r), r]));
    w.deleteRef('refs/heads/drafts/app/ws1');
    w.draft('app', 'ws2');
    const moved = w.amendDraft('app', 'ws2', packageFiles('app', 'x'));
    // fetch: false answers from the mirror as it was.
    expect(summary((await remote.listRevisions(prev, { fetch: false })).revisions)).toEqual(summary(first.revisions));
    const next = await remote.listRevisions(prev);
    const refs = next.revisions.map((r) => r.ref);
    expect(refs).not.toContain('refs/heads/drafts/app/ws1');
    expect(next.revisions.find((r) => r.ref === 'refs/heads/drafts/app/ws2')?.commit).toBe(moved);
    for (const r of next.revisions) if (r.ref.startsWith('refs/tags/')) expect(r).toBe(prev.get(r.ref));
    await remote.close();
  });

  it('writes drafts, proposes, publishes and deletes through pushes', async () => {
    const w = seeded();
    const remote = connect(w);
    await remote.open();
    const ref = 'refs/heads/drafts/web/ws1';
    const c1 = await remote.commitPackage({ ref, packagePath: 'web', resources: { Kptfile: kptfile('web'), 'a.yaml': 'a: 1\n' }, message: 'm1', author: ALICE, expectedOld: null });
    expect(w.resolve(ref)).toBe(c1);
    const c2 = await remote.commitPackage({ ref, packagePath: 'web', resources: { Kptfile: kptfile('web') }, message: 'm2', author: ALICE, expectedOld: c1 });
    expect(w.resolve(ref)).toBe(c2);
    const beforePropose = server.requests.length;
    await remote.moveRef(ref, 'refs/heads/proposed/web/ws1', c2);
    // A lifecycle step is one receive-pack request, with no ref advertisement before it.
    expect(pushes(server.requests.slice(beforePropose))).toEqual(['POST']);
    expect(w.resolve(ref)).toBeUndefined();
    expect(w.resolve('refs/heads/proposed/web/ws1')).toBe(c2);

    const head = w.head()!;
    const message = approvalCommitMessage('web', 1, 'ws1');
    const beforeApprove = server.requests.length;
    const merge = await remote.publish({ packagePath: 'web', sourceRef: 'refs/heads/proposed/web/ws1', sourceCommit: c2, tag: 'refs/tags/web/v1', message, author: ALICE });
    expect(pushes(server.requests.slice(beforeApprove))).toEqual(['POST']);
    expect(w.head()).toBe(merge);
    expect(parents(w, merge)).toEqual([head, c2]);
    expect(w.git(['cat-file', '-t', 'refs/tags/web/v1'])).toBe('commit');
    expect(w.resolve('refs/tags/web/v1')).toBe(merge);
    expect(w.resolve('refs/heads/proposed/web/ws1')).toBeUndefined();
    expect(w.git(['log', '-1', '--format=%B', merge], { raw: true })).toBe(`${message}\n`);

    await remote.updateRef('refs/heads/deletionProposed/web/v1', merge, null);
    expect(w.resolve('refs/heads/deletionProposed/web/v1')).toBe(merge);
    await remote.deleteRef('refs/heads/deletionProposed/web/v1', merge);
    await remote.deleteRef('refs/tags/web/v1', merge);
    expect(w.resolve('refs/tags/web/v1')).toBeUndefined();
    const del = await remote.deletePackageFromBranch('web', 'Delete web', ALICE);
    expect(w.head()).toBe(del);
    expect(w.git(['ls-tree', '--name-only', del]).split('\n').sort()).toEqual(['README.md', 'net']);

    const listed = await remote.listRevisions(undefined, { fetch: false });
    expect(listed.branchCommit).toBe(del);
    expect(summary(listed.revisions)).toEqual(summary((await openGitRepository({ url: w.gitdir, branch: 'main', directory: '', createBranch: false, workDir: tmp.path }).listRevisions()).revisions));
    fsck(w.gitdir);
    fsck(join(lastWorkDir, 'mirror.git'));
    await remote.close();
  });

  it('publishes onto a branch that moved on the remote (one fetch and retry)', async () => {
    const { w, remote, src } = await proposedWeb();
    // Someone else publishes meanwhile; our mirror has not seen it.
    const theirs = w.publish('other', 'ws1', 1);
    const merge = await publishWeb(remote, src);
    expect(parents(w, merge)).toEqual([theirs, src]);
    expect(w.git(['ls-tree', '--name-only', merge]).split('\n').sort()).toEqual(['README.md', 'app', 'net', 'other', 'web'].filter((x) => x !== 'app'));
    expect(w.resolve(WEB_V1)).toBe(merge);
    fsck(w.gitdir);
    await remote.close();
  });

  it('publishes atomically: a tag taken on the remote meanwhile leaves the branch and the source where they were', async () => {
    const { w, remote, src } = await proposedWeb();
    const head = w.head();
    // Someone else takes the tag; our mirror has not seen it, so the push names it as new.
    w.git(['update-ref', WEB_V1, head!]);
    await expect(publishWeb(remote, src)).rejects.toBeInstanceOf(GitConflictError);
    expect(w.head()).toBe(head);
    expect(w.resolve(WEB_V1)).toBe(head);
    expect(w.resolve(WEB_PROPOSED)).toBe(src);
    fsck(w.gitdir);
    await remote.close();
  });

  it('refuses to overwrite refs that moved on the remote, and recovers after a sync', async () => {
    const w = seeded();
    const remote = connect(w);
    await remote.open();
    const draft = w.resolve('refs/heads/drafts/app/ws1')!;
    const theirs = w.amendDraft('app', 'ws1', packageFiles('app', 'theirs'));
    await expect(remote.commitPackage({ ref: 'refs/heads/drafts/app/ws1', packagePath: 'app', resources: packageFiles('app', 'ours'), message: 'm', author: ALICE, expectedOld: draft })).rejects.toBeInstanceOf(
      GitConflictError,
    );
    expect(w.resolve('refs/heads/drafts/app/ws1')).toBe(theirs);
    await expect(remote.deleteRef('refs/heads/drafts/app/ws1', draft)).rejects.toBeInstanceOf(GitConflictError);
    expect(w.resolve('refs/heads/drafts/app/ws1')).toBe(theirs);
    // Created remotely after our last sync: creating it here must fail too.
    const other = w.draft('app', 'ws9');
    await expect(remote.commitPackage({ ref: 'refs/heads/drafts/app/ws9', packagePath: 'app', resources: packageFiles('app'), message: 'm', author: ALICE, expectedOld: null })).rejects.toBeInstanceOf(
      GitConflictError,
    );
    expect(w.resolve('refs/heads/drafts/app/ws9')).toBe(other);
    const listed = await remote.listRevisions();
    expect(listed.revisions.find((r) => r.ref === 'refs/heads/drafts/app/ws1')?.commit).toBe(theirs);
    const c = await remote.commitPackage({ ref: 'refs/heads/drafts/app/ws1', packagePath: 'app', resources: packageFiles('app', 'ours'), message: 'm', author: ALICE, expectedOld: theirs });
    expect(w.resolve('refs/heads/drafts/app/ws1')).toBe(c);
    await remote.close();
  });

  it('creates the branch on an empty remote when asked, and otherwise fails to open', async () => {
    const name = `empty${++n}.git`;
    createBareRepo(join(tmp.path, name));
    const strict = connect(name, { createBranch: false });
    await expect(strict.open()).rejects.toThrow(/branch "main" doesn't exist/);
    const remote = connect(name, { createBranch: true });
    await remote.open();
    const head = git(join(tmp.path, name), ['rev-parse', 'refs/heads/main']);
    expect(git(join(tmp.path, name), ['log', '-1', '--format=%s', head])).toBe('Initial commit: Creating main branch');
    expect((await remote.listRevisions()).branchCommit).toBe(head);
    await strict.open();
    await remote.close();
    await strict.close();
  });
});

describe('remote failures', () => {
  it('reports a wrong password as authFailed', async () => {
    const w = seeded();
    for (const auth of [{ kind: 'basic', username: 'porch', password: 'wrong' } as const, undefined]) {
      const remote = connect(w, { auth });
      const err = await remote.open().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GitUnavailableError);
      expect((err as GitUnavailableError).authFailed).toBe(true);
      await remote.close();
    }
  });

  it('sends a bearer token when configured', async () => {
    const bearerRoot = tempDir();
    const bearer = await startGitServer({ root: bearerRoot.path, bearerToken: 'tok-123' });
    try {
      const w = PorchRepoWriter.create(join(bearerRoot.path, 'b.git'));
      w.publish('app', 'ws1', 1);
      const ok = connect('b.git', { url: `${bearer.url}/b.git`, auth: { kind: 'bearer', token: 'tok-123' } });
      await ok.open();
      expect((await ok.listRevisions()).revisions.map((r) => r.ref).sort()).toEqual(['refs/heads/main', 'refs/tags/app/v1']);
      await ok.close();
      const bad = connect('b.git', { url: `${bearer.url}/b.git`, auth: { kind: 'bearer', token: 'nope' } });
      const err = await bad.open().catch((e: unknown) => e);
      expect((err as GitUnavailableError).authFailed).toBe(true);
      await bad.close();
    } finally {
      await bearer.stop();
      bearerRoot.remove();
    }
  });

  it('is unavailable (not an auth failure) while the server is down, and recovers', async () => {
    const w = seeded();
    const remote = connect(w);
    await remote.open();
    const before = await remote.listRevisions();
    await server.stop();
    try {
      const err = await remote.listRevisions().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GitUnavailableError);
      expect((err as GitUnavailableError).authFailed).toBe(false);
      await expect(remote.commitPackage({ ref: 'refs/heads/drafts/x/ws', packagePath: 'x', resources: packageFiles('x'), message: 'm', author: ALICE, expectedOld: null })).rejects.toBeInstanceOf(
        GitUnavailableError,
      );
      // The mirror still answers, and kept no trace of the failed write.
      const local = await remote.listRevisions(undefined, { fetch: false });
      expect(summary(local.revisions)).toEqual(summary(before.revisions));
    } finally {
      await server.restart();
    }
    const c = await remote.commitPackage({ ref: 'refs/heads/drafts/x/ws', packagePath: 'x', resources: packageFiles('x'), message: 'm', author: ALICE, expectedOld: null });
    expect(w.resolve('refs/heads/drafts/x/ws')).toBe(c);
    await remote.close();
  });

  it('gives up after timeoutMs on a server that never answers', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => sockets.add(s));
    await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
    const port = (silent.address() as { port: number }).port;
    try {
      const remote = connect('x.git', { url: `http://127.0.0.1:${port}/x.git`, timeoutMs: 300 });
      const started = Date.now();
      const err = await remote.open().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GitUnavailableError);
      expect(String((err as Error).message)).toMatch(/timed out|aborted/);
      // Far below connect()'s own 20 s default: it was this timeout that ended the wait.
      expect(Date.now() - started).toBeLessThan(10_000);
      await remote.close();
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((ok) => silent.close(() => ok()));
    }
  });
});
