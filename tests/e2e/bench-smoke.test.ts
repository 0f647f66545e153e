import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { typescriptCommand } from '../support/dev-server.ts';

// The benchmark suite in its quick form: it must run to the end and report every case with numbers.
// Timings are never checked here (they depend on the machine); `npm run bench` is for those.

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const CASES = [
  'cold-load',
  'list-5k-json',
  'list-5k-table',
  'list-10k-json',
  'list-10k-table',
  'get-revision',
  'get-resources',
  'watch-fanout',
  'incremental-sync',
  'cold-load-remote',
  'lifecycle-remote-cycle',
  'lifecycle-remote-approve',
  'lifecycle-sequential',
  'lifecycle-parallel',
  'render-builtin',
  'render-exec',
  'memory',
];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const cmd = typescriptCommand(args[0], args.slice(1));
    const child = spawn(cmd.command, cmd.args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('benchmark suite (--quick)', () => {
  let dir: string;
  let result: Result;
  let report: { mode: string; cases: { id: string; value: unknown; baseline: unknown; ratio: unknown; unit: unknown }[] };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-smoke-'));
    const out = join(dir, 'bench-results.json');
    result = await run(['tests/bench/run.ts', '--quick', '--out', out]);
    if (result.code === 0) report = JSON.parse(await readFile(out, 'utf8'));
  }, 300_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('completes and prints progress and the table', () => {
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/\[bench +[\d.]+s\] building fixtures/);
    expect(result.stdout).toMatch(/^case +porch-ts +baseline +ratio/m);
  });

  it('writes every case with a figure, a baseline and their ratio', () => {
    expect(report.mode).toBe('quick');
    expect(report.cases.map((c) => c.id).sort()).toEqual([...CASES].sort());
    for (const c of report.cases) {
      for (const field of ['value', 'baseline', 'ratio'] as const) {
        expect(typeof c[field], `${c.id}.${field}`).toBe('number');
        expect(Number.isFinite(c[field]), `${c.id}.${field} = ${String(c[field])}`).toBe(true);
      }
      expect(typeof c.unit).toBe('string');
    }
  });
});
