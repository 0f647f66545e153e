import { describe, expect, it } from 'vitest';
import type { RevisionRecord } from '../../../lib/cache/types.ts';
import { forEachBounded, SyncTimeoutError, withTimeout } from '../../../lib/sync/limits.ts';
import { parseSchedule, syncSpecProblems } from '../../../lib/sync/schedule.ts';
import { findStaleDrafts } from '../../../lib/sync/stale-drafts.ts';
import { repositoryStrategy } from '../../../lib/strategy/repository.ts';

describe('parseSchedule', () => {
  it('reads five-field cron in UTC (Porch\'s format) and six-field with seconds', () => {
    const five = parseSchedule('30 2 * * 1');
    if (!five.ok) throw new Error(five.error);
    // 2025-01-01 is a Wednesday: the next Monday 02:30 UTC.
    expect(new Date(five.schedule.next(Date.parse('2025-01-01T00:00:00Z'))).toISOString()).toBe('2025-01-06T02:30:00.000Z');
    const six = parseSchedule('*/10 * * * * *');
    if (!six.ok) throw new Error(six.error);
    expect(new Date(six.schedule.next(Date.parse('2025-01-01T00:00:05Z'))).toISOString()).toBe('2025-01-01T00:00:10.000Z');
    // Strictly after: a firing at exactly the match plans the following one.
    expect(new Date(six.schedule.next(Date.parse('2025-01-01T00:00:10Z'))).toISOString()).toBe('2025-01-01T00:00:20.000Z');
  });

  it('refuses what is not a schedule, and a pattern that never fires', () => {
    for (const bad of ['', 'hourly', '* * *', '61 * * * *', '* * * * * * *', '0 0 30 2 *']) {
      const p = parseSchedule(bad);
      expect(p.ok, bad).toBe(false);
    }
    const p = parseSchedule('61 * * * *');
    expect(!p.ok && p.error).toMatch(/minute/);
  });
});

describe('Repository validation of spec.sync', () => {
  const obj = (sync: Record<string, string>) => ({
    apiVersion: 'config.porch.kpt.dev/v1alpha1',
    kind: 'Repository',
    metadata: { name: 'r', namespace: 'default' },
    spec: { type: 'git', git: { repo: 'https://example.com/r.git' }, sync },
  });

  it('names spec.sync.schedule and spec.sync.runOnceAt when they are not a cron expression and a time', () => {
    expect(syncSpecProblems({ schedule: '*/5 * * * *', runOnceAt: '2025-01-01T00:00:00Z' })).toEqual([]);
    expect(syncSpecProblems(undefined)).toEqual([]);
    const causes = repositoryStrategy.validate!(obj({ schedule: 'every day', runOnceAt: 'tomorrow' }));
    expect(causes.map((c) => c.field)).toEqual(['spec.sync.schedule', 'spec.sync.runOnceAt']);
    expect(causes[0].message).toMatch(/^Invalid value: "every day": /);
    expect(repositoryStrategy.validate!(obj({ schedule: '0 0 30 2 *' }))[0].message).toMatch(/never fires/);
  });
});

describe('limits', () => {
  it('withTimeout releases the caller at the deadline with a "timed out" error, and passes results through', async () => {
    const never = new Promise<never>(() => undefined);
    const started = Date.now();
    const err = await withTimeout(never, 50).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SyncTimeoutError);
    expect((err as Error).message).toBe('timed out after 50ms');
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    await expect(withTimeout(Promise.resolve(7), 50)).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('boom')), 50)).rejects.toThrow('boom');
  });

  it('forEachBounded runs at most `limit` at once and all of them', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await forEachBounded([1, 2, 3, 4, 5, 6, 7, 8, 9], 4, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      done.push(n);
      if (n === 3) throw new Error('one failure does not stop the rest');
    });
    expect(peak).toBe(4);
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('findStaleDrafts', () => {
  const rec = (name: string, lifecycle: RevisionRecord['lifecycle'], movedAt: string): RevisionRecord =>
    ({
      name,
      packagePath: name,
      workspace: 'ws',
      revision: 0,
      lifecycle,
      git: { ref: `refs/heads/drafts/${name}/ws`, author: { name: 'a', email: 'a@b', timestamp: Date.parse(movedAt) / 1000 } },
    }) as RevisionRecord;

  it('reports drafts whose branch has not moved for longer than the threshold, oldest first; nothing else', () => {
    const now = Date.parse('2025-03-01T00:00:00Z');
    const records = [
      rec('r.fresh.ws', 'Draft', '2025-02-20T00:00:00Z'),
      rec('r.old.ws', 'Draft', '2025-01-10T00:00:00Z'),
      rec('r.older.ws', 'Draft', '2024-06-01T00:00:00Z'),
      rec('r.proposed.ws', 'Proposed', '2024-01-01T00:00:00Z'),
      rec('r.published.v1', 'Published', '2024-01-01T00:00:00Z'),
    ];
    const stale = findStaleDrafts(records, now, 30 * 86_400_000);
    expect(stale.map((d) => d.name)).toEqual(['r.older.ws', 'r.old.ws']);
    expect(stale[0]).toEqual({ name: 'r.older.ws', ref: 'refs/heads/drafts/r.older.ws/ws', since: new Date('2024-06-01T00:00:00Z') });
    expect(findStaleDrafts(records, now, 0)).toEqual([]);
  });
});
