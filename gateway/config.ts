import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { LogLevel } from '../lib/log.ts';
import { errMessage } from '../lib/errors.ts';
import { parseDuration } from '../lib/sync/limits.ts';

/** Everything the server is started with, from its flags and PORCH_* environment variables. */
export interface Config {
  /** dev: everything in the embedded store; cluster: the CRDs, Secrets and Namespaces in kube-apiserver. */
  mode: 'dev' | 'cluster';
  storeOnly: boolean;
  dataDir: string;
  port: number;
  host: string;
  /** The kubeconfig the server writes for its users. */
  kubeconfigPath: string;
  logLevel: LogLevel;
  tls: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tokenFile?: string;
  rbacFile?: string;
  clientCA?: string;
  requestheaderClientCA?: string;
  requestheaderAllowedNames: string[];
  allowAnonymous: boolean;
  /** The kubeconfig cluster mode reads. */
  clusterKubeconfig?: string;
  delegatedAuth: boolean;
  skipLookup: boolean;
  syncIntervalMs: number;
  repositorySyncTimeoutMs: number;
  staleDraftAgeMs: number;
  maxBodyBytes: number;
  /** `--function-config`: images the operator maps to executables for Kptfile pipelines. */
  functionConfig?: string;
  /** `--function-runner`: HOST:PORT of Porch's function runner (gRPC). */
  functionRunner?: string;
}

/** A command line the server cannot start with; main prints it and exits with 2. */
export class UsageError extends Error {}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

// parseArgs booleans take no value in Node 20: `--tls=false` becomes `--no-tls`.
const NEGATABLE = /^--(allow-anonymous|delegated-auth|tls)=(.*)$/;

function normalizeBooleans(argv: readonly string[]): string[] {
  return argv.map((a) => {
    const m = NEGATABLE.exec(a);
    if (!m) return a;
    return /^(false|0|no)$/i.test(m[2]) ? `--no-${m[1]}` : `--${m[1]}`;
  });
}

function readFlags(argv: readonly string[]) {
  try {
    return parseArgs({
      args: normalizeBooleans(argv),
      options: {
        tls: { type: 'boolean' },
        'no-tls': { type: 'boolean' },
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
        'function-config': { type: 'string' },
        'function-runner': { type: 'string' },
      },
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new UsageError(errMessage(err));
  }
}

const envBool = (v: string | undefined): boolean | undefined => (v === undefined || v === '' ? undefined : /^(true|1|yes)$/i.test(v));

function duration(flag: string, value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new UsageError(`invalid --${flag}: ${errMessage(err)}`);
  }
}

/** The server's configuration from its arguments (without node and script) and environment. */
export function parseConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, cwd = process.cwd()): Config {
  const flags = readFlags(argv);
  const optPath = (flag: string | undefined, envValue: string | undefined): string | undefined => {
    const v = flag ?? envValue;
    return v ? resolve(cwd, v) : undefined;
  };

  const mode = flags.mode ?? env.PORCH_MODE ?? 'dev';
  if (mode !== 'dev' && mode !== 'cluster') throw new UsageError(`invalid --mode ${mode} (dev or cluster)`);
  const logLevel = flags['log-level'] ?? env.PORCH_LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) throw new UsageError(`invalid --log-level ${logLevel} (${LOG_LEVELS.join(', ')})`);

  const dataDir = resolve(cwd, flags['data-dir'] ?? env.PORCH_DATA_DIR ?? '.porch-ts');
  const tlsCert = optPath(flags['tls-cert'], env.PORCH_TLS_CERT);
  const tlsKey = optPath(flags['tls-key'], env.PORCH_TLS_KEY);
  if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key must be given together');
  // Dev mode serves HTTPS unless told not to: kubectl sends bearer tokens over TLS only, so over plain
  // http every request would run as system:anonymous.
  const tlsChosen = flags['no-tls'] ? false : (flags.tls ?? envBool(env.PORCH_TLS) ?? mode === 'dev');
  const tls = tlsChosen || tlsCert !== undefined;
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
  const clusterKubeconfig = optPath(flags['cluster-kubeconfig'], env.PORCH_CLUSTER_KUBECONFIG);
  const delegatedAuth = mode === 'cluster' && (flags['no-delegated-auth'] ? false : (flags['delegated-auth'] ?? envBool(env.PORCH_DELEGATED_AUTH) ?? true));
  const skipLookup = flags['authentication-skip-lookup'] ?? envBool(env.PORCH_AUTHENTICATION_SKIP_LOOKUP) ?? false;
  const storeOnly = flags['store-only'] ?? envBool(env.PORCH_STORE_ONLY) ?? false;

  if (mode === 'cluster' && storeOnly) throw new UsageError('--store-only is for dev mode (a stand-in kube-apiserver)');
  if (delegatedAuth && !tls)
    throw new UsageError('cluster mode with delegated authentication needs --tls (or --tls-cert/--tls-key); --delegated-auth=false turns it off');
  if (delegatedAuth && (tokenFile || rbacFile))
    throw new UsageError('--token-file and --rbac-file apply when authentication is not delegated (dev mode, or --delegated-auth=false)');
  if ((clientCA || requestheaderClientCA) && !tls) throw new UsageError('--client-ca and --requestheader-client-ca need --tls');

  const syncIntervalMs = duration('sync-interval', flags['sync-interval'] ?? env.PORCH_SYNC_INTERVAL ?? '10m');
  const repositorySyncTimeoutMs = duration('sync-timeout', flags['sync-timeout'] ?? env.PORCH_SYNC_TIMEOUT ?? '2m');
  const staleDraftAgeMs = duration('stale-draft-age', flags['stale-draft-age'] ?? env.PORCH_STALE_DRAFT_AGE ?? '30d');
  if (repositorySyncTimeoutMs <= 0) throw new UsageError('--sync-timeout must be more than 0');

  const maxBodyBytes = Number(flags['max-body-bytes'] ?? env.PORCH_MAX_BODY_BYTES ?? 8 * 1024 * 1024);
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1024)
    throw new UsageError(`invalid --max-body-bytes ${String(flags['max-body-bytes'] ?? env.PORCH_MAX_BODY_BYTES)} (a byte count of at least 1024)`);
  const port = Number(flags.port ?? env.PORCH_PORT ?? 7007);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`invalid --port ${String(flags.port ?? env.PORCH_PORT)}`);

  const functionConfig = optPath(flags['function-config'], env.PORCH_FUNCTION_CONFIG);
  const functionRunner = flags['function-runner'] ?? env.PORCH_FUNCTION_RUNNER ?? undefined;
  if (functionRunner !== undefined && !validHostPort(functionRunner)) throw new UsageError(`invalid --function-runner ${functionRunner} (HOST:PORT)`);

  return {
    mode,
    storeOnly,
    dataDir,
    port,
    host: flags.host ?? env.PORCH_HOST ?? '127.0.0.1',
    kubeconfigPath: resolve(cwd, flags.kubeconfig ?? env.PORCH_KUBECONFIG ?? join(dataDir, 'kubeconfig')),
    logLevel: logLevel as LogLevel,
    tls,
    tlsCert,
    tlsKey,
    tokenFile,
    rbacFile,
    clientCA,
    requestheaderClientCA,
    requestheaderAllowedNames,
    allowAnonymous,
    clusterKubeconfig,
    delegatedAuth,
    skipLookup,
    syncIntervalMs,
    repositorySyncTimeoutMs,
    staleDraftAgeMs,
    maxBodyBytes,
    functionConfig,
    functionRunner: functionRunner || undefined,
  };
}

/** host:port, [v6]:port or a gRPC target such as dns:///host:port; the port a number. */
function validHostPort(target: string): boolean {
  if (target === '') return true;
  const m = /^(?:dns:\/\/\/)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(target);
  return m !== null && Number(m[2]) > 0 && Number(m[2]) <= 65535;
}
