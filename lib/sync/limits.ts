// Bounds on background repository work: how many run at once, and how long one may take.

/** Thrown when work was abandoned at its deadline (the work itself may still finish later). */
export class SyncTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${formatDuration(timeoutMs)}`);
    this.name = 'SyncTimeoutError';
  }
}

/**
 * Wait for `work` at most `timeoutMs`. On timeout the caller is released with SyncTimeoutError;
 * the work is abandoned, not cancelled (its own network deadlines end it), and a late failure of it
 * is swallowed rather than left unhandled.
 */
export async function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) return work;
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SyncTimeoutError(timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Run `fn` over `items`, at most `limit` at a time; never rejects (errors go to `fn`'s caller via its own handling). */
export async function forEachBounded<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  const queue = [...items];
  const workers = Array.from({ length: Math.max(1, Math.min(limit, queue.length)) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item).catch(() => undefined);
  });
  await Promise.all(workers);
}

export function formatDuration(ms: number): string {
  if (ms >= 86_400_000 && ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** "10m", "30s", "1h", "30d", "500ms" or plain seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new Error(`invalid duration "${text}" (use e.g. 30s, 10m, 1h, 30d)`);
  const n = Number(m[1]);
  const scale: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  return Math.round(n * scale[m[2] ?? 's']);
}
