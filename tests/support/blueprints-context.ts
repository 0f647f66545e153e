import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppContext } from '../../lib/context.ts';
import type { Logger } from '../../lib/log.ts';
import { registerRepository, testContext } from './context.ts';
import { porchRepo, type FixturePackage } from './git-fixtures.ts';

export interface BlueprintsContext {
  ctx: AppContext;
  dataDir: string;
  /** The bare repository behind Repository `blueprints`. */
  bare: string;
  /** Stops the context and removes its data and the repository. */
  cleanup: () => Promise<void>;
}

/**
 * A test context in which Repository `blueprints` is registered and synced: a bare repository of
 * `packages` in Porch's layout (none: a main branch with only a README), in a folder of its own.
 */
export async function blueprintsContext(packages: FixturePackage[] = [], opts: { log?: Logger } = {}): Promise<BlueprintsContext> {
  const t = await testContext(opts);
  const dir = await mkdtemp(join(tmpdir(), 'porch-blueprints-'));
  const cleanup = async () => {
    await t.cleanup();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const bare = porchRepo(dir, 'blueprints', packages);
    await registerRepository(t.ctx, 'blueprints', bare);
    return { ctx: t.ctx, dataDir: t.dataDir, bare, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
