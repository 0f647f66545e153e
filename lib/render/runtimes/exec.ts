import { spawn } from 'node:child_process';
import { matchExec, type ExecFunction } from '../function-config.ts';
import { decodeResourceList, encodeResourceList } from '../resource-list.ts';
import { FunctionFailure, type FunctionInput, type FunctionOutput, type FunctionRuntime } from '../runtime.ts';

export interface ExecOptions {
  /** Largest stdout accepted, in bytes; a function writing more is stopped. */
  maxOutputBytes?: number;
  /** stderr kept for the log; the rest is dropped. */
  maxLogBytes?: number;
}

const MiB = 1024 * 1024;

/** Runs one program: no shell, nothing of the server's environment, killed at its timeout. */
export function runExec(fn: ExecFunction, input: FunctionInput, opts: ExecOptions = {}): Promise<FunctionOutput> {
  const maxOut = opts.maxOutputBytes ?? 64 * MiB;
  const maxLog = opts.maxLogBytes ?? MiB;
  const stdin = encodeResourceList(input.items, input.functionConfig);
  return new Promise((resolve, reject) => {
    // Its own process group: a function's helpers (a shell script's sleep) hold its pipes open, so
    // a timeout or a cancelled render kills the whole group, not only the program started.
    const child = spawn(fn.exec, fn.args, { env: { PATH: '/usr/local/bin:/usr/bin:/bin' }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const killAll = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killAll();
    }, fn.timeoutMs);
    input.signal?.addEventListener('abort', killAll, { once: true });
    const settled = () => {
      clearTimeout(timer);
      input.signal?.removeEventListener('abort', killAll);
    };
    const out: Buffer[] = [];
    let outBytes = 0;
    let log = '';
    let overflow = false;
    child.stdout.on('data', (b: Buffer) => {
      outBytes += b.length;
      if (outBytes > maxOut) {
        overflow = true;
        killAll();
        return;
      }
      out.push(b);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      if (log.length < maxLog) log += s.slice(0, maxLog - log.length);
    });
    // A function that exits without reading its input closes the pipe early; its exit code tells.
    child.stdin.on('error', () => undefined);
    child.on('error', (err) => {
      settled();
      reject(input.signal?.aborted ? input.signal.reason : new FunctionFailure(`cannot run ${fn.exec}: ${err.message}`, 1, [], log));
    });
    child.on('close', (code, signal) => {
      settled();
      if (input.signal?.aborted) return reject(input.signal.reason);
      if (timedOut) return reject(new FunctionFailure(`timed out after ${fn.timeoutMs}ms`, 1, [], log));
      if (overflow) return reject(new FunctionFailure(`output exceeds ${maxOut} bytes`, 1, [], log));
      if (signal) return reject(new FunctionFailure(`killed by ${signal}`, 1, [], log));
      let decoded: ReturnType<typeof decodeResourceList> | undefined;
      try {
        decoded = decodeResourceList(Buffer.concat(out).toString('utf8'));
      } catch (err) {
        if (code === 0) return reject(err instanceof FunctionFailure ? new FunctionFailure(err.message, 1, [], log) : err);
      }
      if (code !== 0) return reject(new FunctionFailure(`exit code ${code}${log ? `: ${log.trim().split('\n').slice(-3).join(' ')}` : ''}`, code ?? 1, decoded?.results ?? [], log));
      resolve({ items: decoded!.items, results: decoded!.results, log });
    });
    child.stdin.end(stdin);
  });
}

/** Images the operator mapped to programs (`--function-config`). */
export function execRuntime(functions: readonly ExecFunction[], opts: ExecOptions = {}): FunctionRuntime {
  return {
    name: 'executable',
    lookup(image) {
      const fn = matchExec(functions, image);
      return fn && ((input) => runExec(fn, input, opts));
    },
  };
}
