import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevContext } from '../../lib/bootstrap.ts';
import type { AppContext } from '../../lib/context.ts';
import { silentLogger } from '../../lib/log.ts';

/** A full lib context around a temporary data directory, for calling handlers without the gateway. */
export async function testContext(): Promise<{ ctx: AppContext; dataDir: string; cleanup: () => Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'porch-ctx-'));
  const ctx = await createDevContext({ dataDir, log: silentLogger, durable: false, gitTimeoutMs: 5000 });
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
