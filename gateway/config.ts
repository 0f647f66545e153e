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
  /** Directories local repositories (paths, file:// URLs) may be under; empty = the mode's default. */
  localRepoRoots: string[];
  /** Send git credentials over plain http to hosts other than loopback. */
  allowInsecureGitCredentials: boolean;
  /** Largest package (sum of its files) and largest upstream fetch, in bytes. */
  maxPackageBytes: number;
  /** `--function-config`: images the operator maps to executables for Kptfile pipelines. */
  functionConfig?: string;
  /** `--function-runner`: HOST:PORT of Porch's function runner (gRPC). */
  functionRunner?: string;
}

/** A command line the server cannot start with; main prints it and exits with 2. */
export class UsageError extends Error {}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

// parseArgs booleans take no value in Node 20: `--tls=false` becomes `--no-tls`, so each of these has
// a `no-` twin in the option table.
const NEGATABLE = ['tls', 'allow-anonymous', 'delegated-auth', 'allow-insecure-git-credentials'] as const;
type Negatable = (typeof NEGATABLE)[number];

const NEGATION = new RegExp(`^--(${NEGATABLE.join('|')})=(.*)$`);

function normalizeBooleans(argv: readonly string[]): string[] {
  return argv.map((a) => {
    const m = NEGATION.exec(a);
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
        'no-allow-insecure-git-credentials': { type: 'boolean' },
        port: { type: 'string' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        kubeconfig: { type: 'string' },
        'log-level': { type: 'string' },
        'sync-interval': { type: 'string' },
        'sync-timeout': { type: 'string' },
        'stale-draft-age': { type: 'string' },
        'max-body-bytes': { type: 'string' },
        'local-repo-root': { type: 'string', multiple: true },
        'allow-insecure-git-credentials': { type: 'boolean' },
        'max-package-bytes': { type: 'string' },
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

type Flags = ReturnType<typeof readFlags>;
type StringFlag = { [F in keyof Flags]-?: Flags[F] extends string | undefined ? F : never }[keyof Flags];
type BooleanFlag = { [F in keyof Flags]-?: Flags[F] extends boolean | undefined ? F : never }[keyof Flags];

const envBool = (v: string | undefined): boolean | undefined => (v === undefined || v === '' ? undefined : /^(true|1|yes)$/i.test(v));

/** A flag's environment variable: its name in capitals after PORCH_, `-` as `_`. */
const envName = (flag: string): string => `PORCH_${flag.toUpperCase().replaceAll('-', '_')}`;

/** The server's configuration from its arguments (without node and script) and environment. */
export function parseConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, cwd = process.cwd()): Config {
  const flags = readFlags(argv);
  // A flag wins over its environment variable.
  const setting = (flag: StringFlag): string | undefined => flags[flag] ?? env[envName(flag)];
  const negated = (flag: BooleanFlag): boolean => (NEGATABLE as readonly string[]).includes(flag) && flags[`no-${flag as Negatable}`] === true;
  const toggle = (flag: BooleanFlag): boolean | undefined => (negated(flag) ? false : (flags[flag] ?? envBool(env[envName(flag)])));
  const optPath = (flag: StringFlag): string | undefined => {
    const v = setting(flag);
    return v ? resolve(cwd, v) : undefined;
  };
  const duration = (flag: StringFlag, fallback: string): number => {
    try {
      return parseDuration(setting(flag) ?? fallback);
    } catch (err) {
      throw new UsageError(`invalid --${flag}: ${errMessage(err)}`);
    }
  };
  const byteCount = (flag: StringFlag, fallback: number): number => {
    const n = Number(setting(flag) ?? fallback);
    if (!Number.isSafeInteger(n) || n < 1024) throw new UsageError(`invalid --${flag} ${String(setting(flag))} (a byte count of at least 1024)`);
    return n;
  };

  const mode = setting('mode') ?? 'dev';
  if (mode !== 'dev' && mode !== 'cluster') throw new UsageError(`invalid --mode ${mode} (dev or cluster)`);
  const logLevel = setting('log-level') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) throw new UsageError(`invalid --log-level ${logLevel} (${LOG_LEVELS.join(', ')})`);

  const dataDir = resolve(cwd, setting('data-dir') ?? '.porch-ts');
  const tlsCert = optPath('tls-cert');
  const tlsKey = optPath('tls-key');
  if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key must be given together');
  // Dev mode serves HTTPS unless told not to: kubectl sends bearer tokens over TLS only, so over plain
  // http every request would run as system:anonymous.
  const tls = (toggle('tls') ?? mode === 'dev') || tlsCert !== undefined;
  const tokenFile = optPath('token-file');
  const rbacFile = optPath('rbac-file');
  const clientCA = optPath('client-ca');
  const requestheaderClientCA = optPath('requestheader-client-ca');
  const requestheaderAllowedNames = (setting('requestheader-allowed-names') ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  const allowAnonymous = toggle('allow-anonymous') ?? (tokenFile === undefined && rbacFile === undefined);
  const clusterKubeconfig = optPath('cluster-kubeconfig');
  const delegatedAuth = mode === 'cluster' && (toggle('delegated-auth') ?? true);
  const skipLookup = toggle('authentication-skip-lookup') ?? false;
  const storeOnly = toggle('store-only') ?? false;

  if (mode === 'cluster' && storeOnly) throw new UsageError('--store-only is for dev mode (a stand-in kube-apiserver)');
  if (delegatedAuth && !tls)
    throw new UsageError('cluster mode with delegated authentication needs --tls (or --tls-cert/--tls-key); --delegated-auth=false turns it off');
  if (delegatedAuth && (tokenFile || rbacFile))
    throw new UsageError('--token-file and --rbac-file apply when authentication is not delegated (dev mode, or --delegated-auth=false)');
  if ((clientCA || requestheaderClientCA) && !tls) throw new UsageError('--client-ca and --requestheader-client-ca need --tls');

  const syncIntervalMs = duration('sync-interval', '10m');
  const repositorySyncTimeoutMs = duration('sync-timeout', '2m');
  const staleDraftAgeMs = duration('stale-draft-age', '30d');
  if (repositorySyncTimeoutMs <= 0) throw new UsageError('--sync-timeout must be more than 0');

  const maxBodyBytes = byteCount('max-body-bytes', 8 * 1024 * 1024);
  const maxPackageBytes = byteCount('max-package-bytes', 64 * 1024 * 1024);
  const localRepoRoots = (flags['local-repo-root'] ?? (env.PORCH_LOCAL_REPO_ROOTS ?? '').split(':'))
    .filter((r) => r !== '')
    .map((r) => resolve(cwd, r));
  const allowInsecureGitCredentials = toggle('allow-insecure-git-credentials') ?? false;
  const port = Number(setting('port') ?? 7007);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`invalid --port ${String(setting('port'))}`);

  const functionConfig = optPath('function-config');
  const functionRunner = setting('function-runner');
  if (functionRunner !== undefined && !validHostPort(functionRunner)) throw new UsageError(`invalid --function-runner ${functionRunner} (HOST:PORT)`);

  return {
    mode,
    storeOnly,
    dataDir,
    port,
    host: setting('host') ?? '127.0.0.1',
    kubeconfigPath: resolve(cwd, setting('kubeconfig') ?? join(dataDir, 'kubeconfig')),
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
    localRepoRoots,
    allowInsecureGitCredentials,
    maxPackageBytes,
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
