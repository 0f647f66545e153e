import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

// The real dev server (gateway/main.ts) as a child process, and the real kubectl against it.
// The server is one node process running the suite's bundle of gateway/main.ts (server-bundle.ts), or
// with tsx's loader outside the suite (`node --import tsx`, not the tsx CLI, which would start a second
// node under it); it still gets its own process group so stopping it can never leave anything it
// started holding the port.

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Command and arguments that run a TypeScript entry point of this repository with node and tsx's loader. */
export function typescriptCommand(entry: string, args: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: ['--import', 'tsx', entry, ...args] };
}

/** gateway/main.ts as the suite's global setup bundled it (server-bundle.ts), else through tsx. */
function serverCommand(args: string[]): { command: string; args: string[] } {
  const bundle = inject('serverBundle');
  return bundle ? { command: process.execPath, args: [bundle, ...args] } : typescriptCommand(join('gateway', 'main.ts'), args);
}

/** gateway/main.ts's command line for a server on `port` with `dataDir`. */
function serverArgs(dataDir: string, port: number, opts: DevServerOptions): string[] {
  // Plain http unless the test chooses TLS (or asks for the server's own default with `http: false`).
  const choosesTls = (opts.args ?? []).some((a) => /^--(tls|tls-cert|tls-key)(=|$)/.test(a));
  const plain = opts.http !== false && !choosesTls ? ['--tls=false'] : [];
  return ['--port', String(port), '--data-dir', dataDir, '--log-level', opts.logLevel ?? 'info', ...plain, ...(opts.args ?? [])];
}
const LISTENING = /porch-ts listening on (\S+) kubeconfig=(\S+)/;
const MAX_CAPTURE = 1 << 20;

export interface DevServerOptions {
  /** Use this data directory (kept afterwards); default: a fresh temporary one, removed by stop(). */
  dataDir?: string;
  /** Fixed port; default 0 (the server picks a free one). */
  port?: number;
  /** Extra command-line flags for gateway/main.ts. */
  args?: string[];
  /**
   * Serve plain http (`--tls=false`) unless `args` choose TLS, so tests can fetch the URL without the
   * self-signed CA; default true. false: the server's own default (HTTPS in dev mode).
   */
  http?: boolean;
  env?: Record<string, string>;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** How long to wait for the "listening" line. */
  startTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. */
  stopTimeoutMs?: number;
  /** Keep a temporary data directory after stop(), e.g. to inspect it. */
  keepDataDir?: boolean;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface DevServer {
  readonly url: string;
  readonly port: number;
  readonly kubeconfig: string;
  readonly dataDir: string;
  /** Everything the current (or last) server process wrote so far. */
  output(): { stdout: string; stderr: string };
  /** SIGTERM, then SIGKILL after the grace period; removes a temporary data directory. Idempotent. */
  stop(): Promise<void>;
  /** Send a signal to the server and wait for it to exit; the data directory stays for restart(). */
  kill(signal?: NodeJS.Signals): Promise<ExitInfo>;
  /** Stop the server if it runs and start it again on the same data directory and port. */
  restart(): Promise<void>;
}

const live = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone already.
  }
}

// Kills the server's process group once the test process is gone, even when the test process was
// killed outright (a vitest worker torn down by signal runs no exit hooks). Ends by itself as soon as
// the server group is gone. A process group is addressed as "-PGID" without "--", which dash rejects.
const WATCHDOG = `
while :; do
  kill -0 "-$2" 2>/dev/null || exit 0
  kill -0 "$1" 2>/dev/null || break
  sleep 1
done
kill -TERM "-$2" 2>/dev/null
sleep 3
kill -KILL "-$2" 2>/dev/null
exit 0
`;

function startWatchdog(child: ChildProcess): void {
  if (child.pid === undefined) return;
  const dog = spawn('/bin/sh', ['-c', WATCHDOG, 'porch-dev-watchdog', String(process.pid), String(child.pid)], { detached: true, stdio: 'ignore' });
  dog.on('error', () => undefined);
  dog.unref();
}

let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test run that dies without afterAll must not leave servers behind.
  process.once('exit', () => {
    for (const child of live) killGroup(child, 'SIGKILL');
  });
}

interface Running {
  child: ChildProcess;
  exited: Promise<ExitInfo>;
  stdout: string;
  stderr: string;
}

function append(buf: string, chunk: string): string {
  const next = buf + chunk;
  return next.length > MAX_CAPTURE ? next.slice(next.length - MAX_CAPTURE) : next;
}

async function launch(dataDir: string, port: number, opts: DevServerOptions): Promise<{ run: Running; url: string; kubeconfig: string; port: number }> {
  installExitHook();
  const cmd = serverCommand(serverArgs(dataDir, port, opts));
  const child = spawn(cmd.command, cmd.args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  live.add(child);
  startWatchdog(child);
  const run: Running = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        resolve({ code, signal });
      });
      child.once('error', () => {
        live.delete(child);
        resolve({ code: null, signal: null });
      });
    }),
  };
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (run.stderr = append(run.stderr, chunk)));

  // Generous: on a busy machine loading the server's modules alone can take many seconds.
  const timeoutMs = opts.startTimeoutMs ?? 90_000;
  try {
    const found = await new Promise<RegExpExecArray>((resolve, reject) => {
      let pending = '';
      const timer = setTimeout(() => reject(new Error(`dev server did not report listening within ${timeoutMs} ms`)), timeoutMs);
      child.stdout?.on('data', (chunk: string) => {
        run.stdout = append(run.stdout, chunk);
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          const m = LISTENING.exec(line);
          if (m) {
            clearTimeout(timer);
            resolve(m);
          }
        }
      });
      void run.exited.then((info) => {
        clearTimeout(timer);
        reject(new Error(`dev server exited before listening (code ${info.code}, signal ${info.signal})`));
      });
    });
    const url = found[1];
    managedKubeconfigs.add(found[2]);
    return { run, url, kubeconfig: found[2], port: Number(new URL(url).port) };
  } catch (err) {
    killGroup(child, 'SIGKILL');
    await run.exited;
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`${reason}\n--- stdout ---\n${run.stdout.slice(-4000)}\n--- stderr ---\n${run.stderr.slice(-4000)}`);
  }
}

async function terminate(run: Running, signal: NodeJS.Signals, graceMs: number): Promise<ExitInfo> {
  if (run.child.exitCode !== null || run.child.signalCode !== null) return run.exited;
  killGroup(run.child, signal);
  let timer: NodeJS.Timeout | undefined;
  const escalate = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      killGroup(run.child, 'SIGKILL');
      resolve();
    }, graceMs);
  });
  const info = await Promise.race([run.exited, escalate.then(() => run.exited)]);
  clearTimeout(timer);
  // Nothing of the group (a git process the server started, say) may linger.
  killGroup(run.child, 'SIGKILL');
  return info;
}

/** Start gateway/main.ts on a free port with a temporary data directory and wait until it listens. */
export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'porch-dev-')));
  const stopTimeoutMs = opts.stopTimeoutMs ?? 10_000;
  let state: Awaited<ReturnType<typeof launch>>;
  try {
    state = await launch(dataDir, opts.port ?? 0, opts);
  } catch (err) {
    if (ownDir && !opts.keepDataDir) await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  let stopped = false;

  const server: DevServer = {
    get url() {
      return state.url;
    },
    get port() {
      return state.port;
    },
    get kubeconfig() {
      return state.kubeconfig;
    },
    dataDir,
    output: () => ({ stdout: state.run.stdout, stderr: state.run.stderr }),
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate(state.run, 'SIGTERM', stopTimeoutMs);
      await dropKubectlCache(state.kubeconfig);
      if (ownDir && !opts.keepDataDir) await rm(dataDir, { recursive: true, force: true });
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      return terminate(state.run, signal, stopTimeoutMs);
    },
    async restart() {
      if (stopped) throw new Error('restart() after stop()');
      await terminate(state.run, 'SIGTERM', stopTimeoutMs);
      // The old process may hold the port for a moment after it is gone from our view.
      for (let attempt = 0; ; attempt++) {
        try {
          state = await launch(dataDir, state.port, opts);
          return;
        } catch (err) {
          if (attempt >= 20 || !String(err).includes('EADDRINUSE')) throw err;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    },
  };
  return server;
}

// ---- kubectl ----

export interface KubectlOptions {
  kubeconfig: string;
  /** Written to kubectl's standard input (for `-f -`). */
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

const KUBECTL = process.env.KUBECTL ?? (existsSync('/usr/bin/kubectl') ? '/usr/bin/kubectl' : 'kubectl');

// kubectl caches discovery and OpenAPI per host:port for hours; ports get reused between servers,
// so the kubeconfig of each server started here gets a cache of its own, removed by stop().
const managedKubeconfigs = new Set<string>();
const cacheDirs = new Map<string, string>();
let cacheHookInstalled = false;

async function cacheDirFor(kubeconfig: string): Promise<string | undefined> {
  if (!managedKubeconfigs.has(kubeconfig)) return undefined;
  let dir = cacheDirs.get(kubeconfig);
  if (dir) return dir;
  dir = await mkdtemp(join(tmpdir(), 'porch-kubectl-cache-'));
  cacheDirs.set(kubeconfig, dir);
  if (!cacheHookInstalled) {
    cacheHookInstalled = true;
    process.once('exit', () => {
      for (const d of cacheDirs.values()) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}

async function dropKubectlCache(kubeconfig: string): Promise<void> {
  managedKubeconfigs.delete(kubeconfig);
  const dir = cacheDirs.get(kubeconfig);
  if (!dir) return;
  cacheDirs.delete(kubeconfig);
  await rm(dir, { recursive: true, force: true });
}

/** Run the real kubectl against a kubeconfig; never throws for a non-zero exit. */
export async function kubectl(args: string[], opts: KubectlOptions): Promise<KubectlResult> {
  const cacheDir = await cacheDirFor(opts.kubeconfig);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const child = spawn(KUBECTL, ['--kubeconfig', opts.kubeconfig, ...(cacheDir ? ['--cache-dir', cacheDir] : []), ...args], {
    env: { ...process.env, KUBECONFIG: opts.kubeconfig, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (c: string) => (stdout = append(stdout, c)));
  child.stderr.on('data', (c: string) => (stderr = append(stderr, c)));
  // kubectl may exit before reading its input; a broken pipe then is not the test's failure.
  child.stdin.on('error', () => undefined);
  child.stdin.end(opts.input ?? '');
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const code = await new Promise<number>((resolve) => {
    child.once('error', (err) => {
      stderr += `\n[failed to run ${KUBECTL}: ${err.message}]`;
      resolve(-1);
    });
    child.once('close', (c) => resolve(c ?? -1));
  });
  clearTimeout(timer);
  if (timedOut) stderr += `\n[kubectl timed out after ${timeoutMs} ms]`;
  return { code, stdout, stderr, timedOut };
}
