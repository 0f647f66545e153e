import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, startDevServer, type DevServer } from '../support/dev-server.ts';
import { PorchRepoWriter } from '../support/git-fixtures.ts';
import { repositoryYaml } from '../support/manifests.ts';
import { until } from '../support/wait-for.ts';

// Scheduled repository sync end to end: the dev server (gateway/main.ts, --sync-timeout 3s) and the
// real kubectl, a local bare repository synced every two seconds by its cron schedule, and a
// repository whose git URL is an HTTP server that accepts connections and never answers.

interface RepoStatus {
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  lastFullSyncTime?: string;
  nextFullSyncTime?: string;
  packageCount?: number;
  gitCommitHash?: string;
  observedGeneration?: number;
  observedRunOnceAt?: string;
}

describe('scheduled repository sync through kubectl', () => {
  let dir: string;
  let server: DevServer;
  let writer: PorchRepoWriter;
  let bare: string;
  let hangServer: Server;
  let hangUrl: string;
  const sockets = new Set<Socket>();
  let hangRequests = 0;

  const run = (args: string[], input?: string) => kubectl(args, { kubeconfig: server.kubeconfig, input });
  const ok = async (args: string[], input?: string) => {
    const r = await run(args, input);
    expect(r.code, `kubectl ${args.join(' ')}\n${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const status = async (name: string): Promise<RepoStatus> => {
    const obj = JSON.parse(await ok(['get', 'repository', name, '-o', 'json'])) as { status?: RepoStatus };
    return obj.status ?? {};
  };
  const ready = (s: RepoStatus) => s.conditions?.find((c) => c.type === 'Ready');
  const revisions = async () => (await ok(['get', 'packagerevisions', '-o', 'name'])).split('\n').filter(Boolean);

  const repoYaml = (name: string, url: string, sync?: { schedule?: string }) => repositoryYaml({ name, repo: url, sync });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'porch-e2e-sync-'));
    bare = join(dir, 'good.git');
    writer = PorchRepoWriter.create(bare);
    writer.publish('a', 'v1', 1);
    writer.publish('b', 'v1', 1);
    hangServer = createServer((req) => {
      hangRequests++;
      req.resume();
    });
    hangServer.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => hangServer.listen(0, '127.0.0.1', r));
    hangUrl = `http://127.0.0.1:${(hangServer.address() as AddressInfo).port}/stuck.git`;
    server = await startDevServer({ args: ['--sync-interval', '0', '--sync-timeout', '3s'] });
  });

  afterAll(async () => {
    await server?.stop();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => (hangServer ? hangServer.close(() => r()) : r()));
    await rm(dir, { recursive: true, force: true });
  });

  it('syncs the good repository on its schedule while the hanging one times out, with Porch\'s status fields', async () => {
    await ok(['apply', '-f', '-'], repoYaml('stuck', hangUrl) + '---\n' + repoYaml('good', bare, { schedule: '*/2 * * * * *' }));

    const first = await until('good ready', async () => {
      const s = await status('good');
      return ready(s)?.status === 'True' ? s : undefined;
    });
    expect(first).toMatchObject({ packageCount: 2, gitCommitHash: writer.head(), observedGeneration: 1 });
    // The good repository lists while the stuck one is still held up (or has just given up).
    const names = await revisions();
    expect(names).toEqual(expect.arrayContaining(['packagerevision.porch.kpt.dev/good.a.v1', 'packagerevision.porch.kpt.dev/good.b.v1']));
    expect(names.filter((n) => n.includes('/stuck.'))).toEqual([]);

    const stuck = await until('stuck timed out', async () => {
      const c = ready(await status('stuck'));
      return c?.reason === 'Error' ? c : undefined;
    });
    expect(stuck).toMatchObject({ status: 'False', message: 'repository sync timed out after 3s' });
    const table = await ok(['get', 'repositories']);
    expect(table).toMatch(/^stuck\s+git\s+Package\s+\S*\s*False\s/m);
    expect(table).toMatch(/^good\s+git\s+Package\s+\*\/2 \* \* \* \* \*\s+\S*\s*True\s/m);

    // Scheduled syncs go on: lastFullSyncTime moves, nextFullSyncTime is the schedule's next even second.
    const seen = new Set<string>();
    await until('three scheduled syncs', async () => {
      const s = await status('good');
      if (s.lastFullSyncTime) seen.add(s.lastFullSyncTime);
      if (s.lastFullSyncTime && s.nextFullSyncTime) {
        const last = Date.parse(s.lastFullSyncTime);
        const next = Date.parse(s.nextFullSyncTime);
        expect(next % 2000).toBe(0);
        expect(next).toBeGreaterThan(last - 1000);
        expect(next - last).toBeLessThanOrEqual(3000);
        expect(ready(s)?.message).toBe(`Repository Ready (next sync scheduled at: ${s.nextFullSyncTime})`);
      }
      return seen.size >= 3;
    });

    // A change pushed to git shows up by the schedule alone.
    writer.publish('c', 'v1', 1);
    const after = await until('new head synced', async () => {
      const s = await status('good');
      return s.gitCommitHash === writer.head() ? s : undefined;
    });
    expect(after.packageCount).toBe(3);
    expect(await revisions()).toContain('packagerevision.porch.kpt.dev/good.c.v1');
    // The stuck one is still reported, and never delayed the other.
    expect(ready(await status('stuck'))?.reason).toBe('Error');
  });

  it('an invalid schedule is refused; runOnceAt fires once and is recorded', async () => {
    const bad = await run(['apply', '-f', '-'], repoYaml('badcron', bare, { schedule: 'every minute' }));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/spec\.sync\.schedule/);

    await ok(['apply', '-f', '-'], repoYaml('once', bare));
    const initial = await until('once ready', async () => {
      const s = await status('once');
      return ready(s)?.status === 'True' ? s : undefined;
    });
    // No schedule and --sync-interval 0: nothing planned.
    expect(initial.nextFullSyncTime).toBeUndefined();
    expect(ready(initial)?.message).toBe('Repository Ready');
    // runOnceAt must lie beyond the patch and the status read that sees it planned: 4 s, or more on a
    // machine so busy that one kubectl round trip takes longer than half a second.
    const t0 = Date.now();
    await status('once');
    const margin = Math.max(4000, 8 * (Date.now() - t0));
    const at = new Date(Math.ceil((Date.now() + margin) / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z');
    await ok(['patch', 'repository', 'once', '--type', 'merge', '-p', JSON.stringify({ spec: { sync: { runOnceAt: at } } })]);
    const planned = await until('runOnceAt planned', async () => {
      const s = await status('once');
      return s.observedGeneration === 2 ? s : undefined;
    });
    expect(planned.nextFullSyncTime).toBe(at);
    expect(planned.observedRunOnceAt).toBeUndefined();
    const done = await until('runOnceAt observed', async () => {
      const s = await status('once');
      return s.observedRunOnceAt ? s : undefined;
    });
    expect(done.observedRunOnceAt).toBe(at);
    expect(Date.parse(done.lastFullSyncTime!)).toBeGreaterThanOrEqual(Date.parse(at));
    expect(done.nextFullSyncTime).toBeUndefined();
  });

  it('after a restart the list answers at once from the last state while the hanging repository loads', async () => {
    const requestsBefore = hangRequests;
    await server.restart();
    const started = Date.now();
    const names = await revisions();
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(names).toEqual(expect.arrayContaining(['packagerevision.porch.kpt.dev/good.a.v1', 'packagerevision.porch.kpt.dev/good.c.v1']));
    // The start-up sync tried the stuck repository again (and it hangs again).
    await until('start-up sync of the stuck repository', async () => hangRequests > requestsBefore);
    const stuck = ready(await status('stuck'));
    expect(stuck).toMatchObject({ reason: 'Error', message: 'repository sync timed out after 3s' });
    await ok(['delete', 'repository', 'good', 'once', 'stuck']);
    await until('revisions gone', async () => (await revisions()).length === 0);
  });
});
