import type { Hono } from 'hono';
import type { HandlerEnv } from '../handlers/http/env.ts';
import type { Logger } from '../lib/log.ts';
import { SYNC_PATH } from '../handlers/sync-repositories.ts';

/**
 * Fires the sync-repositories handler on a period, as a scheduler outside the request path would:
 * through its HTTP interface, so the handler runs exactly as it would when invoked on its own.
 */
export class SyncScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly handler: Hono<HandlerEnv>,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.fire(), this.intervalMs);
    this.timer.unref();
  }

  /** Run one sync of every repository; overlapping runs are skipped, not queued. */
  async fire(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const res = await this.handler.request(new Request(`http://scheduler${SYNC_PATH}`, { method: 'POST' }));
      const body = await res.text();
      if (res.status >= 300) this.log.warn('scheduled sync failed', { status: res.status, body });
      else this.log.info('scheduled sync', JSON.parse(body) as Record<string, unknown>);
    } catch (err) {
      this.log.error('scheduled sync failed', { error: err instanceof Error ? err.message : String(err) });
    } finally {
      this.running = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

/** "10m", "30s", "1h", "500ms" or plain seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`invalid duration "${text}" (use e.g. 30s, 10m, 1h)`);
  const n = Number(m[1]);
  const scale: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  return Math.round(n * scale[m[2] ?? 's']);
}
