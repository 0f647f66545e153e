import { mkdir, readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StaticTokenAuthenticator } from '../lib/auth/static-tokens.ts';
import { createDevContext } from '../lib/bootstrap.ts';
import type { UserInfo } from '../lib/context.ts';
import { createLogger, type LogLevel } from '../lib/log.ts';
import { writeFileAtomic } from '../lib/store/atomic-file.ts';
import { ANONYMOUS } from '../handlers/http/env.ts';
import { buildGateway } from './app.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { attachWebSocketWatch } from './websocket.ts';
import { parseDuration, SyncScheduler } from './scheduler.ts';
import syncRepositories from '../handlers/sync-repositories.ts';

const { values: flags } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'data-dir': { type: 'string' },
    kubeconfig: { type: 'string' },
    'log-level': { type: 'string' },
    'sync-interval': { type: 'string' },
  },
  allowPositionals: false,
});

const env = process.env;
const dataDir = resolve(flags['data-dir'] ?? env.PORCH_DATA_DIR ?? '.porch-ts');
const port = Number(flags.port ?? env.PORCH_PORT ?? 7007);
const host = flags.host ?? env.PORCH_HOST ?? '127.0.0.1';
const kubeconfigPath = resolve(flags.kubeconfig ?? env.PORCH_KUBECONFIG ?? join(dataDir, 'kubeconfig'));
const log = createLogger({ level: (flags['log-level'] ?? env.PORCH_LOG_LEVEL ?? 'info') as LogLevel, base: { component: 'gateway' } });

let syncIntervalMs: number;
try {
  syncIntervalMs = parseDuration(flags['sync-interval'] ?? env.PORCH_SYNC_INTERVAL ?? '10m');
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(2);
}

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid --port ${String(flags.port ?? env.PORCH_PORT)}`);
  process.exit(2);
}

/** The admin token is kept in the data directory so a restart keeps old kubeconfigs working. */
async function adminToken(): Promise<string> {
  const path = join(dataDir, 'admin-token');
  const existing = await readFile(path, 'utf8').catch(() => '');
  if (existing.trim()) return existing.trim();
  const token = randomBytes(24).toString('base64url');
  await writeFileAtomic(path, token);
  return token;
}

async function main(): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const ctx = await createDevContext({ dataDir, log });
  const token = await adminToken();
  const admin: UserInfo = { username: 'porch-ts-admin', groups: ['system:masters', 'system:authenticated'] };
  const tokens = new StaticTokenAuthenticator(new Map([[token, admin]]));
  const app = buildGateway(ctx, { authenticate: async (req) => tokens.authenticate(req) ?? ANONYMOUS });

  const server = serve({ fetch: app.fetch, port, hostname: host });
  await new Promise<void>((ok, fail) => {
    server.once('listening', ok);
    server.once('error', fail);
  });
  const detachWs = attachWebSocketWatch(server as unknown as Server, app.fetch, log);
  const actual = (server.address() as AddressInfo).port;
  const url = `http://${host}:${actual}`;
  await writeKubeconfig(kubeconfigPath, url, token);
  const scheduler = new SyncScheduler(syncRepositories(ctx), syncIntervalMs, log);
  scheduler.start();
  console.log(`porch-ts listening on ${url} kubeconfig=${kubeconfigPath}`);
  log.info('started', { url, dataDir, kubeconfig: kubeconfigPath });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    scheduler.stop();
    ctx.shutdown.fire();
    detachWs();
    server.close(() => {
      void ctx.engine.stop().then(() => ctx.store.close()).then(() => process.exit(0));
    });
    // Connections that outlive the grace period (idle keep-alives) must not hold the process.
    setTimeout(() => process.exit(0), 5000).unref();
    if ('closeIdleConnections' in server) (server as { closeIdleConnections: () => void }).closeIdleConnections();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  log.error('failed to start', { error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
