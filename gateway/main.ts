import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generateServingCertificate } from '../lib/auth/tls.ts';
import { createClusterContext, createDevContext } from '../lib/bootstrap.ts';
import { createLogger, type LogLevel } from '../lib/log.ts';
import { mkdirPrivate, writeFileAtomic } from '../lib/store/atomic-file.ts';
import { buildGateway } from './app.ts';
import { buildAuth, buildDelegatedAuth } from './auth.ts';
import { servedResources } from './routes.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { attachWebSocketWatch } from './websocket.ts';
import { parseDuration, SyncScheduler } from './scheduler.ts';
import syncRepositories from '../handlers/sync-repositories.ts';

// `--allow-anonymous=false` / `=true` (parseArgs booleans take no value in Node 20).
const argv = process.argv.slice(2).map((a) => {
  const m = /^--(allow-anonymous|delegated-auth)=(.*)$/.exec(a);
  if (!m) return a;
  return /^(false|0|no)$/i.test(m[2]) ? `--no-${m[1]}` : `--${m[1]}`;
});

const { values: flags } = parseArgs({
  args: argv,
  options: {
    tls: { type: 'boolean' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'token-file': { type: 'string' },
    'rbac-file': { type: 'string' },
    'client-ca': { type: 'string' },
    'requestheader-client-ca': { type: 'string' },
    'requestheader-allowed-names': { type: 'string' },
    'allow-anonymous': { type: 'boolean' },
    'no-allow-anonymous': { type: 'boolean' },
    port: { type: 'string' },
    host: { type: 'string' },
    'data-dir': { type: 'string' },
    kubeconfig: { type: 'string' },
    'log-level': { type: 'string' },
    'sync-interval': { type: 'string' },
    'sync-timeout': { type: 'string' },
    'stale-draft-age': { type: 'string' },
    'max-body-bytes': { type: 'string' },
    mode: { type: 'string' },
    'cluster-kubeconfig': { type: 'string' },
    'delegated-auth': { type: 'boolean' },
    'no-delegated-auth': { type: 'boolean' },
    'authentication-skip-lookup': { type: 'boolean' },
    'store-only': { type: 'boolean' },
  },
  allowPositionals: false,
});

const env = process.env;
const dataDir = resolve(flags['data-dir'] ?? env.PORCH_DATA_DIR ?? '.porch-ts');
const port = Number(flags.port ?? env.PORCH_PORT ?? 7007);
const host = flags.host ?? env.PORCH_HOST ?? '127.0.0.1';
const kubeconfigPath = resolve(flags.kubeconfig ?? env.PORCH_KUBECONFIG ?? join(dataDir, 'kubeconfig'));
const log = createLogger({ level: (flags['log-level'] ?? env.PORCH_LOG_LEVEL ?? 'info') as LogLevel, base: { component: 'gateway' } });

const envBool = (v: string | undefined): boolean | undefined => (v === undefined || v === '' ? undefined : /^(true|1|yes)$/i.test(v));
const optPath = (flag: string | undefined, envValue: string | undefined): string | undefined => {
  const v = flag ?? envValue;
  return v ? resolve(v) : undefined;
};
const tlsCert = optPath(flags['tls-cert'], env.PORCH_TLS_CERT);
const tlsKey = optPath(flags['tls-key'], env.PORCH_TLS_KEY);
const tls = Boolean(flags.tls ?? envBool(env.PORCH_TLS) ?? false) || tlsCert !== undefined;
const tokenFile = optPath(flags['token-file'], env.PORCH_TOKEN_FILE);
const rbacFile = optPath(flags['rbac-file'], env.PORCH_RBAC_FILE);
const clientCA = optPath(flags['client-ca'], env.PORCH_CLIENT_CA);
const requestheaderClientCA = optPath(flags['requestheader-client-ca'], env.PORCH_REQUESTHEADER_CLIENT_CA);
const requestheaderAllowedNames = (flags['requestheader-allowed-names'] ?? env.PORCH_REQUESTHEADER_ALLOWED_NAMES ?? '')
  .split(',')
  .map((n) => n.trim())
  .filter((n) => n !== '');
const allowAnonymous = flags['no-allow-anonymous']
  ? false
  : (flags['allow-anonymous'] ?? envBool(env.PORCH_ALLOW_ANONYMOUS) ?? (tokenFile === undefined && rbacFile === undefined));

// dev: everything in the embedded store; cluster: the CRDs, Secrets and Namespaces in kube-apiserver.
const mode = flags.mode ?? env.PORCH_MODE ?? 'dev';
if (mode !== 'dev' && mode !== 'cluster') {
  console.error(`invalid --mode ${mode} (dev or cluster)`);
  process.exit(2);
}
// The kubeconfig cluster mode reads (--kubeconfig is the one the server writes for its users).
const clusterKubeconfig = optPath(flags['cluster-kubeconfig'], env.PORCH_CLUSTER_KUBECONFIG);
const delegatedAuth = mode === 'cluster' && (flags['no-delegated-auth'] ? false : (flags['delegated-auth'] ?? envBool(env.PORCH_DELEGATED_AUTH) ?? true));
const skipLookup = flags['authentication-skip-lookup'] ?? envBool(env.PORCH_AUTHENTICATION_SKIP_LOOKUP) ?? false;
const storeOnly = flags['store-only'] ?? envBool(env.PORCH_STORE_ONLY) ?? false;
if (mode === 'cluster' && storeOnly) {
  console.error('--store-only is for dev mode (a stand-in kube-apiserver)');
  process.exit(2);
}
if (delegatedAuth && !tls) {
  console.error('cluster mode with delegated authentication needs --tls (or --tls-cert/--tls-key); --delegated-auth=false turns it off');
  process.exit(2);
}
if (delegatedAuth && (tokenFile || rbacFile)) {
  console.error('--token-file and --rbac-file apply when authentication is not delegated (dev mode, or --delegated-auth=false)');
  process.exit(2);
}

if ((tlsCert === undefined) !== (tlsKey === undefined)) {
  console.error('--tls-cert and --tls-key must be given together');
  process.exit(2);
}
if ((clientCA || requestheaderClientCA) && !tls) {
  console.error('--client-ca and --requestheader-client-ca need --tls');
  process.exit(2);
}

let syncIntervalMs: number;
let syncTimeoutMs: number;
let staleDraftAgeMs: number;
try {
  syncIntervalMs = parseDuration(flags['sync-interval'] ?? env.PORCH_SYNC_INTERVAL ?? '10m');
  syncTimeoutMs = parseDuration(flags['sync-timeout'] ?? env.PORCH_SYNC_TIMEOUT ?? '2m');
  staleDraftAgeMs = parseDuration(flags['stale-draft-age'] ?? env.PORCH_STALE_DRAFT_AGE ?? '30d');
  if (syncTimeoutMs <= 0) throw new Error('--sync-timeout must be more than 0');
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(2);
}

const maxBodyBytes = Number(flags['max-body-bytes'] ?? env.PORCH_MAX_BODY_BYTES ?? 8 * 1024 * 1024);
if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1024) {
  console.error(`invalid --max-body-bytes ${String(flags['max-body-bytes'] ?? env.PORCH_MAX_BODY_BYTES)} (a byte count of at least 1024)`);
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

/** The serving certificate: the given files, or a self-signed one kept in the data directory. */
async function servingCertificate(): Promise<{ certPem: string; keyPem: string }> {
  if (tlsCert && tlsKey) return { certPem: await readFile(tlsCert, 'utf8'), keyPem: await readFile(tlsKey, 'utf8') };
  const certPath = join(dataDir, 'serving.crt');
  const keyPath = join(dataDir, 'serving.key');
  const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8').catch(() => ''), readFile(keyPath, 'utf8').catch(() => '')]);
  if (certPem && keyPem) return { certPem, keyPem };
  const hosts = ['localhost', '127.0.0.1', '::1'];
  if (!hosts.includes(host) && host !== '0.0.0.0' && host !== '::') hosts.push(host);
  const pair = await generateServingCertificate({ hosts });
  await writeFileAtomic(keyPath, pair.keyPem);
  await writeFileAtomic(certPath, pair.certPem);
  return pair;
}

/** How long requests in progress may run on after SIGTERM. */
const SHUTDOWN_GRACE_MS = 30_000;

async function main(): Promise<void> {
  await mkdirPrivate(dataDir);
  // Loaded only in cluster mode: @kubernetes/client-node costs dev mode ~100 MiB of memory for nothing.
  const { KubeClient } = mode === 'cluster' ? await import('../lib/store/kube-client.ts') : { KubeClient: undefined };
  const client = KubeClient ? (clusterKubeconfig ? KubeClient.fromKubeconfigFile(clusterKubeconfig) : KubeClient.inCluster()) : undefined;
  const common = { dataDir, log, config: { maxBodyBytes }, sync: { syncTimeoutMs, staleDraftAgeMs } };
  const ctx = client ? await createClusterContext({ ...common, client }) : await createDevContext({ ...common, storeOnly });
  // With delegated authentication kube-apiserver vouches for every caller: there is no admin token.
  const token = delegatedAuth ? undefined : await adminToken();
  const auth =
    client && delegatedAuth
      ? await buildDelegatedAuth({
          post: client.post,
          get: skipLookup ? undefined : (path) => client.request({ method: 'GET', path }),
          clientCA,
          requestheaderClientCA,
          requestheaderAllowedNames,
          allowAnonymous,
          log,
        })
      : await buildAuth({
          adminToken: token,
          tokenFile,
          rbacFile,
          clientCA,
          requestheaderClientCA,
          requestheaderAllowedNames,
          allowAnonymous,
          log,
        });
  const resources = servedResources(mode === 'cluster' ? ['engine'] : storeOnly ? ['store'] : ['store', 'engine']);
  const app = buildGateway(ctx, { authenticate: auth.authenticate, authorizer: auth.authorizer, stripHeaders: auth.strip, resources });

  const serving = tls ? await servingCertificate() : undefined;
  const server = serving
    ? serve({
        fetch: app.fetch,
        port,
        hostname: host,
        createServer: createHttpsServer,
        serverOptions: {
          cert: serving.certPem,
          key: serving.keyPem,
          // Client certificates are asked for but checked by the authenticators, as kube-apiserver does.
          requestCert: auth.clientCAPem.length > 0,
          rejectUnauthorized: false,
          ...(auth.clientCAPem.length > 0 ? { ca: auth.clientCAPem } : {}),
        },
      })
    : serve({ fetch: app.fetch, port, hostname: host });
  await new Promise<void>((ok, fail) => {
    server.once('listening', ok);
    server.once('error', fail);
  });
  const detachWs = attachWebSocketWatch(server as unknown as Server, app.fetch, log);
  const actual = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const url = `${serving ? 'https' : 'http'}://${urlHost}:${actual}`;
  if (token) await writeKubeconfig(kubeconfigPath, url, token, 'default', serving ? { caPem: serving.certPem } : {});
  // A stand-in kube-apiserver syncs nothing: the repositories are the cluster-mode server's.
  const scheduler = storeOnly ? undefined : new SyncScheduler(ctx, syncRepositories(ctx), { intervalMs: syncIntervalMs, log });
  await scheduler?.start();
  console.log(`porch-ts listening on ${url} kubeconfig=${token ? kubeconfigPath : 'none'}`);
  log.info('started', { url, mode, storeOnly, delegatedAuth, dataDir, kubeconfig: token ? kubeconfigPath : undefined, tls, rbac: rbacFile !== undefined, allowAnonymous });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    scheduler?.stop();
    // Watches end with a final event and new requests get 503; requests in progress (writes
    // included) run to completion before the engine and store are closed.
    ctx.shutdown.fire();
    detachWs();
    server.close();
    if ('closeIdleConnections' in server) (server as { closeIdleConnections: () => void }).closeIdleConnections();
    void (async () => {
      const drained = await ctx.shutdown.drained(SHUTDOWN_GRACE_MS);
      if (!drained) log.warn('requests still running at the end of the shutdown grace period', { graceMs: SHUTDOWN_GRACE_MS });
      await ctx.engine.stop();
      await ctx.store.close();
      log.info('stopped', { signal });
      process.exit(0);
    })();
    // Whatever hangs (a connection that never closes) must not keep the process past the grace.
    setTimeout(() => process.exit(0), SHUTDOWN_GRACE_MS + 5_000).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  log.error('failed to start', { error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
