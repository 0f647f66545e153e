import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { buildGateway } from '../../gateway/app.ts';
import { createDevContext } from '../../lib/bootstrap.ts';
import type { AppContext } from '../../lib/context.ts';
import type { UserInfo } from '../../lib/auth/user.ts';
import { createLogger } from '../../lib/log.ts';
import type { RuntimeFlags } from '../../lib/render/index.ts';
import { BenchClient } from './http.ts';

// The real server in this process: the dev context (embedded store, engine over isomorphic-git) and
// the gateway (auth, logging middleware, every handler) behind @hono/node-server on a free port.

const ADMIN: UserInfo = { username: 'bench-admin', groups: ['system:masters', 'system:authenticated'] };

export interface BenchServer {
  ctx: AppContext;
  url: string;
  client: BenchClient;
  stop(): Promise<void>;
}

export async function startServer(dataDir: string, functions?: RuntimeFlags): Promise<BenchServer> {
  await mkdir(dataDir, { recursive: true });
  // Request logs are formatted as in production but not written, so the terminal stays readable.
  const log = createLogger({ level: 'info', write: () => undefined, base: { component: 'gateway' } });
  const ctx = await createDevContext({ dataDir: join(dataDir, 'server'), log, durable: false, gitTimeoutMs: 120_000, functions });
  const app = buildGateway(ctx, { authenticate: async () => ADMIN });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((ok, fail) => {
    server.once('listening', ok);
    server.once('error', fail);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new BenchClient(url);
  return {
    ctx,
    url,
    client,
    async stop() {
      client.close();
      ctx.shutdown.fire();
      await new Promise<void>((r) => {
        server.close(() => r());
        if ('closeAllConnections' in server) (server as { closeAllConnections: () => void }).closeAllConnections();
      });
      await ctx.engine.stop();
      await ctx.store.close();
    },
  };
}

export const PORCH = '/apis/porch.kpt.dev/v1alpha1';
export const CONFIG = '/apis/config.porch.kpt.dev/v1alpha1';

export async function ensureNamespace(client: BenchClient, ns: string): Promise<void> {
  const r = await client.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });
  if (r.status !== 201 && r.status !== 409) throw new Error(`create namespace ${ns}: HTTP ${r.status} ${r.body.toString('utf8')}`);
}

export async function registerRepository(client: BenchClient, ns: string, name: string, bare: string): Promise<void> {
  await client.json('POST', `${CONFIG}/namespaces/${ns}/repositories`, {
    body: {
      apiVersion: 'config.porch.kpt.dev/v1alpha1',
      kind: 'Repository',
      metadata: { name, namespace: ns },
      spec: { type: 'git', content: 'Package', git: { repo: bare, branch: 'main', directory: '/' } },
    },
  });
}

/** Resolves once the engine holds `count` revisions of the repository (loaded from git). */
export function revisionCount(ctx: AppContext, ns: string, name: string): number {
  const cache = ctx.engine.repository(ns, name);
  return cache?.loaded ? cache.size : -1;
}
