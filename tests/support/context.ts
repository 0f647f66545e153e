import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../lib/api/meta.ts';
import { createDevContext } from '../../lib/bootstrap.ts';
import syncRepositories, { SYNC_PATH } from '../../handlers/sync-repositories.ts';
import type { AppContext } from '../../lib/context.ts';
import { silentLogger, type Logger } from '../../lib/log.ts';

/** A full lib context around a temporary data directory, for calling handlers without the gateway. */
export async function testContext(opts: { log?: Logger } = {}): Promise<{ ctx: AppContext; dataDir: string; cleanup: () => Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'porch-ctx-'));
  const ctx = await createDevContext({ dataDir, log: opts.log ?? silentLogger, durable: false, gitTimeoutMs: 5000 });
  return {
    ctx,
    dataDir,
    cleanup: async () => {
      ctx.shutdown.fire();
      await ctx.engine.stop();
      // A sync abandoned at stop may still be finishing a write in its mirror for a moment.
      await rm(dataDir, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
    },
  };
}

export function jsonRequest(method: string, path: string, body?: unknown, contentType = 'application/json', headers: Record<string, string> = {}): Request {
  return new Request(`http://test${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': contentType } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Sync a Repository through the sync-repositories handler, as the scheduler does; resolves once it is over. */
export async function syncRepository(ctx: AppContext, repo: KubeObject): Promise<void> {
  const query = new URLSearchParams({ namespace: repo.metadata.namespace ?? 'default', name: repo.metadata.name ?? '' });
  const res = await syncRepositories(ctx).request(new Request(`http://test${SYNC_PATH}?${query}`, { method: 'POST' }));
  if (res.status !== 200) throw new Error(`sync of ${query} failed: HTTP ${res.status} ${await res.text()}`);
}
