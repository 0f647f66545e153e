import { execFile } from 'node:child_process';
import { readdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../support/dev-server.ts';
import { porchRepo } from '../support/git-fixtures.ts';
import { client, CONFIG, PORCH } from './api.ts';
import { STALE_LOCK_MS } from '../../lib/git/refstore.ts';
import { stressSize } from '../support/stress.ts';
import { until } from '../support/wait-for.ts';

const run = promisify(execFile);

// The dev server is killed with SIGKILL at random moments while clients write. After every restart:
// the server starts, git is consistent, every acknowledged draft is there with its last acknowledged
// content (or the content of the write that was in flight), and every store object is either before
// or after its last write.

// Every round checks the whole property; test:stress runs many more of them.
const KILLS = stressSize(4, 20);
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 100_000);

/** mulberry32: a small seeded generator, so a failing run can be repeated with CRASH_SEED. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Draft {
  name: string;
  /** Created and acknowledged. */
  created: boolean;
  /** Content of the last acknowledged resources write ("" = the initial package). */
  acked: string;
  /** Content of a write that was sent but not acknowledged. */
  pending?: string;
}

describe('SIGKILL at random points during writes', () => {
  let dir: string;
  let bare: string;
  let server: DevServer;
  const PV = `${CONFIG}/packagevariants`;
  const api = client(() => server);
  const req = api.req;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'porch-crash-'));
    bare = porchRepo(dir, 'blue', [{ path: 'app', revisions: 1 }]);
    server = await startDevServer({ args: ['--sync-interval', '0'], stopTimeoutMs: 5_000 });
    const r = await api.registerBlue(bare);
    expect(r.status, r.text).toBe(201);
    const pv = await req('POST', PV, { apiVersion: 'config.porch.kpt.dev/v1alpha1', kind: 'PackageVariant', metadata: { name: 'counter', namespace: 'default', annotations: { n: '0' } }, spec: {} });
    expect(pv.status, pv.text).toBe(201);
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const waitLoaded = () => api.waitServed('blue.app.v1', 120_000);

  async function lockFiles(path: string): Promise<string[]> {
    const out: string[] = [];
    for (const e of await readdir(path, { withFileTypes: true, recursive: true })) if (e.name.endsWith('.lock')) out.push(join(e.parentPath, e.name));
    return out;
  }

  it(`keeps every acknowledged write across ${KILLS} kills (seed ${SEED})`, async () => {
    const random = rng(SEED);
    const drafts: Draft[] = [];
    let counter = { acked: 0, pending: undefined as number | undefined };
    let writes = 0;
    let refusedByLock = 0;
    /** Requests acknowledged so far, of any kind: a round kills the server only after one more. */
    let acks = 0;

    const resources = (name: string, content: string) => ({
      apiVersion: 'porch.kpt.dev/v1alpha1',
      kind: 'PackageRevisionResources',
      metadata: { name, namespace: 'default' },
      spec: { resources: { Kptfile: 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: pkg\n', 'data.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: data\ndata:\n  v: "${content}"\n` } },
    });

    /** Writes until the server dies under it; records what was acknowledged. */
    async function writeLoop(stop: { dead: boolean }): Promise<void> {
      while (!stop.dead) {
        const pick = random();
        try {
          if (pick < 0.3 || drafts.length === 0) {
            const d: Draft = { name: `blue.crash.w${drafts.length}`, created: false, acked: '' };
            drafts.push(d);
            const r = await api.createDraft('crash', `w${drafts.length - 1}`);
            if (r.status === 409 && r.text.includes('another writer')) {
              // A killed writer's lock on this very branch, until it is old enough to be broken.
              drafts.pop();
              refusedByLock++;
              continue;
            }
            if (r.status !== 201) throw new Error(`create ${d.name}: ${r.status} ${r.text}\n${server.output().stderr.slice(-3000)}`);
            d.created = true;
            acks++;
          } else if (pick < 0.8) {
            const d = drafts.filter((x) => x.created)[Math.floor(random() * drafts.filter((x) => x.created).length)];
            if (!d) continue;
            const content = `write-${++writes}`;
            d.pending = content;
            const r = await req('PUT', `${PORCH}/packagerevisionresources/${d.name}`, resources(d.name, content));
            if (r.status === 409 && r.text.includes('another writer')) {
              // The lock a killed writer left on this ref, until it is old enough to be broken:
              // refused, so nothing changed.
              d.pending = undefined;
              refusedByLock++;
              continue;
            }
            if (r.status !== 200) throw new Error(`update ${d.name}: ${r.status} ${r.text}`);
            d.acked = content;
            d.pending = undefined;
            acks++;
          } else {
            const next = counter.acked + 1;
            counter.pending = next;
            const r = await req('PATCH', `${PV}/counter`, { metadata: { annotations: { n: String(next) } } }, 'application/merge-patch+json');
            if (r.status !== 200) throw new Error(`counter: ${r.status} ${r.text}`);
            counter = { acked: next, pending: undefined };
            acks++;
          }
        } catch (err) {
          // A request cut off by the kill is unacknowledged; anything else is a real failure.
          if (stop.dead) return;
          throw err;
        }
      }
    }

    async function verify(round: number): Promise<void> {
      await run('git', ['fsck', '--strict', '--no-progress', '--no-dangling'], { cwd: bare });
      // Every ref names a commit that exists (fsck checks reachability from them).
      const refs = (await run('git', ['for-each-ref', '--format=%(objectname) %(objecttype) %(refname)'], { cwd: bare })).stdout.trim().split('\n');
      for (const line of refs) expect(line.split(' ')[1], `round ${round}: ${line}`).toMatch(/^(commit|tag)$/);
      const list = JSON.parse((await req('GET', `${PORCH}/packagerevisions?fieldSelector=spec.packageName%3Dcrash`)).text) as { items: { metadata: { name: string } }[] };
      const listed = new Set(list.items.map((i) => i.metadata.name));
      for (const d of drafts) {
        if (!listed.has(d.name)) {
          expect(d.created, `round ${round}: acknowledged draft ${d.name} is missing`).toBe(false);
          // Never created: a later round may try the same workspace again.
          drafts.splice(drafts.indexOf(d), 1);
          continue;
        }
        d.created = true;
        const r = JSON.parse((await req('GET', `${PORCH}/packagerevisionresources/${d.name}`)).text) as { spec: { resources: Record<string, string> } };
        const v = /v: "([^"]*)"/.exec(r.spec.resources['data.yaml'] ?? '')?.[1] ?? '';
        const allowed = [d.acked, d.pending].filter((x) => x !== undefined);
        expect(allowed, `round ${round}: ${d.name} holds "${v}"`).toContain(v);
        d.acked = v;
        d.pending = undefined;
      }
      const pv = JSON.parse((await req('GET', `${PV}/counter`)).text) as { metadata: { annotations: { n: string } } };
      const n = Number(pv.metadata.annotations.n);
      expect([counter.acked, counter.pending], `round ${round}: counter is ${n}`).toContain(n);
      counter = { acked: n, pending: undefined };
    }

    for (let round = 1; round <= KILLS; round++) {
      await waitLoaded();
      await verify(round);
      const stop = { dead: false };
      const loop = writeLoop(stop);
      // However slow the machine, each round gets at least one acknowledged write before its kill,
      // which then lands at a random point of what follows.
      const acked = acks;
      await Promise.race([until(`round ${round}: a write acknowledged`, () => acks > acked, 120_000, 10), loop]);
      await new Promise((ok) => setTimeout(ok, random() * 400));
      stop.dead = true;
      await server.kill('SIGKILL');
      await loop;
      await server.restart();
    }
    await waitLoaded();
    await verify(KILLS + 1);
    // Locks the kills left are broken once stale: by the next writer of their ref, or on start.
    await new Promise((ok) => setTimeout(ok, STALE_LOCK_MS + 500));
    await server.restart();
    await waitLoaded();
    await verify(KILLS + 2);
    expect(await lockFiles(bare), 'lock files left in git').toEqual([]);
    console.log(`crash loop seed ${SEED}: ${drafts.length} drafts, ${writes} resource writes, ${refusedByLock} refused by a dead writer's lock, ${acks} acknowledged`);
    expect(drafts.filter((d) => d.created).length).toBeGreaterThan(0);
  }, stressSize(300_000, 900_000));
});
