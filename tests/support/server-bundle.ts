import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { TestProject } from 'vitest/node';

// vitest's global setup: gateway/main.ts and everything it imports, node_modules included, bundled into
// one JavaScript file once per run, which dev-server.ts starts with plain node. The suite starts some
// forty servers; loading the sources through tsx's loader (thousands of module resolutions and
// transforms) costs each about 2 s of CPU, the bundle about 0.5 s. esbuild is the compiler tsx runs on
// every file anyway, so the server runs the same JavaScript; `npm start` keeps tsx.

declare module 'vitest' {
  export interface ProvidedContext {
    /** The bundled gateway/main.ts (dev-server.ts falls back to tsx without it). */
    serverBundle: string;
  }
}

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function bundle(outfile: string): Promise<void> {
  await build({
    entryPoints: [join(REPO_ROOT, 'gateway', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
    // Bundled CommonJS packages still call require (node built-ins, optional peers).
    banner: { js: "import { createRequire as __porchCreateRequire } from 'node:module'; const require = __porchCreateRequire(import.meta.url);" },
  });
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Under node_modules, so a require the bundle leaves to run time resolves as it would from the sources.
  const parent = join(REPO_ROOT, 'node_modules', '.cache', 'porch-ts-tests');
  const dir = join(parent, String(process.pid));
  await mkdir(dir, { recursive: true });
  // What a run that was killed before its teardown left behind.
  for (const name of await readdir(parent)) if (name !== String(process.pid) && !running(Number(name))) await rm(join(parent, name), { recursive: true, force: true });
  const outfile = join(dir, 'gateway.mjs');
  await bundle(outfile);
  // In watch mode the sources may have changed since.
  project.onTestsRerun(() => bundle(outfile));
  project.provide('serverBundle', outfile);
  return () => rm(dir, { recursive: true, force: true });
}
