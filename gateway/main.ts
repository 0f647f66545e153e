import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createClusterContext, createDevContext } from '../lib/bootstrap.ts';
import { errMessage } from '../lib/errors.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import { mkdirPrivate } from '../lib/store/atomic-file.ts';
import { buildGateway } from './app.ts';
import { buildAuth, buildDelegatedAuth } from './auth.ts';
import { parseConfig, UsageError, type Config } from './config.ts';
import { adminToken, servingCertificate } from './dev-credentials.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { servedResources } from './routes.ts';
import { attachWebSocketWatch } from './websocket.ts';

/** How long requests in progress may run on after SIGTERM. */
const SHUTDOWN_GRACE_MS = 30_000;

async function main(config: Config, log: Logger): Promise<void> {
  const { dataDir, port, host, kubeconfigPath, tls, mode, storeOnly, delegatedAuth, rbacFile, allowAnonymous } = config;
  await mkdirPrivate(dataDir);
  // Loaded only in cluster mode: @kubernetes/client-node costs dev mode ~100 MiB of memory for nothing.
  const { KubeClient } = mode === 'cluster' ? await import('../lib/store/kube-client.ts') : { KubeClient: undefined };
  const client = KubeClient ? (config.clusterKubeconfig ? KubeClient.fromKubeconfigFile(config.clusterKubeconfig) : KubeClient.inCluster()) : undefined;
  const common = { dataDir, log, config: { maxBodyBytes: config.maxBodyBytes }, sync: { repositorySyncTimeoutMs: config.repositorySyncTimeoutMs, staleDraftAgeMs: config.staleDraftAgeMs, intervalMs: config.syncIntervalMs }, functions: { functionConfig: config.functionConfig, functionRunner: config.functionRunner } };
  const ctx = client ? await createClusterContext({ ...common, client }) : await createDevContext({ ...common, storeOnly });
  // With delegated authentication kube-apiserver vouches for every caller: there is no admin token.
  const token = delegatedAuth ? undefined : await adminToken(dataDir);
  const auth =
    client && delegatedAuth
      ? await buildDelegatedAuth({
          post: client.post,
          get: config.skipLookup ? undefined : (path) => client.request({ method: 'GET', path }),
          clientCA: config.clientCA,
          requestheaderClientCA: config.requestheaderClientCA,
          requestheaderAllowedNames: config.requestheaderAllowedNames,
          allowAnonymous,
          log,
        })
      : await buildAuth({
          adminToken: token,
          tokenFile: config.tokenFile,
          rbacFile,
          clientCA: config.clientCA,
          requestheaderClientCA: config.requestheaderClientCA,
          requestheaderAllowedNames: config.requestheaderAllowedNames,
          allowAnonymous,
          log,
        });
  const resources = servedResources(mode === 'cluster' ? ['engine'] : storeOnly ? ['store'] : ['store', 'engine']);
  const app = buildGateway(ctx, { authenticate: auth.authenticate, authorizer: auth.authorizer, stripHeaders: auth.strip, resources });

  const serving = tls ? await servingCertificate(config) : undefined;
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
  console.log(`porch-ts listening on ${url} kubeconfig=${token ? kubeconfigPath : 'none'}`);
  log.info('started', { url, mode, storeOnly, delegatedAuth, dataDir, kubeconfig: token ? kubeconfigPath : undefined, tls, rbac: rbacFile !== undefined, allowAnonymous });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
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

function start(): void {
  let config: Config;
  try {
    config = parseConfig(process.argv.slice(2), process.env);
  } catch (err) {
    console.error(errMessage(err));
    process.exit(err instanceof UsageError ? 2 : 1);
  }
  const log = createLogger({ level: config.logLevel, base: { component: 'gateway' } });
  main(config, log).catch((err: unknown) => {
    log.error('failed to start', { error: errMessage(err) });
    process.exit(1);
  });
}

start();
