import { describe, expect, it } from 'vitest';
import type { Repository } from '../../../lib/api/repository.ts';
import { silentLogger } from '../../../lib/log.ts';
import { SyncPlanner, type SyncRequest } from '../../../lib/sync/planner.ts';
import { FakeClock } from './fake-clock.ts';

const T0 = Date.parse('2025-01-01T00:07:30Z');
const MIN = 60_000;
const iso = (t: number) => new Date(t).toISOString();

function repo(name: string, sync?: { schedule?: string; runOnceAt?: string }, status?: { observedRunOnceAt?: string }, namespace = 'default'): Repository {
  return {
    apiVersion: 'config.porch.kpt.dev/v1alpha1',
    kind: 'Repository',
    metadata: { name, namespace, generation: 1 },
    spec: { type: 'git', git: { repo: '/tmp/x' }, ...(sync ? { sync } : {}) },
    ...(status ? { status } : {}),
  };
}

function setup(defaultPeriodMs = 0, fire?: (req: SyncRequest) => Promise<void>) {
  const clock = new FakeClock(T0);
  const fired: { at: string; req: SyncRequest }[] = [];
  const planner = new SyncPlanner({
    clock,
    defaultPeriodMs,
    log: silentLogger,
    fire: async (req) => {
      fired.push({ at: iso(clock.now()), req });
      if (fire) await fire(req);
    },
  });
  /** Takes in the repository and answers when it is next to sync. */
  const plan = (r: Repository) => {
    planner.upsert(r);
    return planner.nextSyncTime(r.metadata.namespace ?? 'default', r.metadata.name!)?.toISOString();
  };
  return { clock, fired, planner, plan };
}

describe('SyncPlanner: cron schedule', () => {
  it('fires at each time the cron expression names, in UTC, and nowhere else', async () => {
    const { clock, fired, planner, plan } = setup(10 * MIN);
    expect(plan(repo('blueprints', { schedule: '*/15 * * * *' }))).toBe('2025-01-01T00:15:00.000Z');
    await clock.advanceTo(Date.parse('2025-01-01T01:05:00Z'));
    expect(fired.map((f) => f.at)).toEqual([
      '2025-01-01T00:15:00.000Z',
      '2025-01-01T00:30:00.000Z',
      '2025-01-01T00:45:00.000Z',
      '2025-01-01T01:00:00.000Z',
    ]);
    expect(fired.every((f) => f.req.cause === 'schedule' && f.req.name === 'blueprints' && f.req.namespace === 'default' && !f.req.runOnceAt)).toBe(true);
    // While a firing's sync runs, the next one is already planned (the status written by that sync names it).
    expect(planner.nextSyncTime('default', 'blueprints')?.toISOString()).toBe('2025-01-01T01:15:00.000Z');
    expect(planner.planned('default', 'blueprints')).toMatchObject({ periodicCause: 'schedule', scheduleError: undefined });
  });

  it('takes six fields as seconds first, and named schedules', async () => {
    const { clock, fired, planner } = setup();
    planner.upsert(repo('fast', { schedule: '*/20 * * * * *' }));
    planner.upsert(repo('hourly', { schedule: '@hourly' }));
    await clock.advanceTo(Date.parse('2025-01-01T01:00:00Z'));
    const fast = fired.filter((f) => f.req.name === 'fast').map((f) => f.at);
    expect(fast.slice(0, 3)).toEqual(['2025-01-01T00:07:40.000Z', '2025-01-01T00:08:00.000Z', '2025-01-01T00:08:20.000Z']);
    expect(fast).toHaveLength(158);
    expect(fired.filter((f) => f.req.name === 'hourly').map((f) => f.at)).toEqual(['2025-01-01T01:00:00.000Z']);
  });

  it('skips a firing while the previous sync of the same repository still runs, without making it up later', async () => {
    let release: () => void = () => undefined;
    const { clock, fired, planner } = setup(0, (req) => (req.name === 'slow' ? new Promise<void>((r) => (release = r)) : Promise.resolve()));
    planner.upsert(repo('slow', { schedule: '* * * * *' }));
    await clock.advanceTo(T0 + 4 * MIN);
    // Fired at 00:08; 00:09, 00:10 and 00:11 found it still running.
    expect(fired.map((f) => f.at)).toEqual(['2025-01-01T00:08:00.000Z']);
    release();
    await clock.advanceTo(T0 + 5 * MIN);
    expect(fired.map((f) => f.at)).toEqual(['2025-01-01T00:08:00.000Z', '2025-01-01T00:12:00.000Z']);
  });
});

describe('SyncPlanner: default period', () => {
  it('fires every period for a repository without a schedule; a zero period never fires', async () => {
    const periodic = setup(10 * MIN);
    periodic.planner.upsert(repo('plain'));
    await periodic.clock.advance(35 * MIN);
    expect(periodic.fired.map((f) => f.at)).toEqual([iso(T0 + 10 * MIN), iso(T0 + 20 * MIN), iso(T0 + 30 * MIN)]);
    expect(periodic.fired.every((f) => f.req.cause === 'period')).toBe(true);
    expect(periodic.planner.nextSyncTime('default', 'plain')?.getTime()).toBe(T0 + 40 * MIN);

    const never = setup(0);
    never.planner.upsert(repo('plain'));
    await never.clock.advance(24 * 60 * MIN);
    expect(never.fired).toEqual([]);
    expect(never.planner.nextSyncTime('default', 'plain')).toBeUndefined();
  });

  it('is not pushed back by updates that leave the schedule alone (status writes)', async () => {
    const { clock, fired, planner } = setup(10 * MIN);
    planner.upsert(repo('plain'));
    for (let i = 0; i < 9; i++) {
      await clock.advance(MIN);
      planner.upsert({ ...repo('plain'), status: { lastFullSyncTime: iso(clock.now()) } });
    }
    await clock.advance(MIN);
    expect(fired.map((f) => f.at)).toEqual([iso(T0 + 10 * MIN)]);
  });

  it('falls back to the default period for an invalid schedule and says why', async () => {
    const { clock, fired, planner } = setup(10 * MIN);
    planner.upsert(repo('bad', { schedule: 'every tuesday' }));
    expect(planner.planned('default', 'bad')?.scheduleError).toMatch(/five, six, or seven/);
    planner.upsert(repo('never', { schedule: '0 0 30 2 *' }));
    expect(planner.planned('default', 'never')?.scheduleError).toBe('the schedule never fires');
    await clock.advance(10 * MIN);
    expect(fired.map((f) => `${f.req.name}@${f.at}/${f.req.cause}`).sort()).toEqual([`bad@${iso(T0 + 10 * MIN)}/period`, `never@${iso(T0 + 10 * MIN)}/period`]);
  });
});

describe('SyncPlanner: runOnceAt', () => {
  it('fires once at runOnceAt, passing the value on to be recorded, and not again once observed', async () => {
    const { clock, fired, planner } = setup(0);
    const at = '2025-01-01T00:20:00Z';
    planner.upsert(repo('once', { runOnceAt: at }));
    expect(planner.planned('default', 'once')?.runOnceAt?.toISOString()).toBe('2025-01-01T00:20:00.000Z');
    expect(planner.nextSyncTime('default', 'once')?.toISOString()).toBe('2025-01-01T00:20:00.000Z');
    await clock.advanceTo(Date.parse('2025-01-01T00:19:59Z'));
    expect(fired).toEqual([]);
    await clock.advanceTo(Date.parse('2025-01-01T00:30:00Z'));
    expect(fired).toEqual([{ at: '2025-01-01T00:20:00.000Z', req: { namespace: 'default', name: 'once', cause: 'runOnceAt', runOnceAt: at } }]);
    // An update before the status records it does not fire it again…
    planner.upsert({ ...repo('once', { runOnceAt: at }), metadata: { name: 'once', namespace: 'default', labels: { a: 'b' } } });
    // …nor does the status recording it.
    planner.upsert(repo('once', { runOnceAt: at }, { observedRunOnceAt: at }));
    await clock.advance(24 * 60 * MIN);
    expect(fired).toHaveLength(1);
    expect(planner.nextSyncTime('default', 'once')).toBeUndefined();
  });

  it('does not fire a runOnceAt at or before observedRunOnceAt; fires a later one; fires a missed one at once', async () => {
    const { clock, fired, planner } = setup(0);
    planner.upsert(repo('seen', { runOnceAt: '2025-01-01T00:20:00Z' }, { observedRunOnceAt: '2025-01-01T00:20:00Z' }));
    planner.upsert(repo('older', { runOnceAt: '2025-01-01T00:20:00Z' }, { observedRunOnceAt: '2025-01-01T00:25:00Z' }));
    // Set while the server was down: not lost.
    planner.upsert(repo('missed', { runOnceAt: '2024-12-31T23:00:00Z' }));
    await clock.advance(MIN);
    expect(fired.map((f) => `${f.req.name}@${f.at}`)).toEqual([`missed@${iso(T0)}`]);
    planner.upsert(repo('seen', { runOnceAt: '2025-01-01T00:40:00Z' }, { observedRunOnceAt: '2025-01-01T00:20:00Z' }));
    await clock.advanceTo(Date.parse('2025-01-01T01:00:00Z'));
    expect(fired.map((f) => `${f.req.name}@${f.at}`)).toEqual([`missed@${iso(T0)}`, 'seen@2025-01-01T00:40:00.000Z']);
  });

  it('re-plans when runOnceAt moves before it fires, and keeps the periodic schedule alongside', async () => {
    const { clock, fired, planner, plan } = setup(0);
    expect(plan(repo('r', { schedule: '0 * * * *', runOnceAt: '2025-01-01T00:30:00Z' }))).toBe('2025-01-01T00:30:00.000Z');
    planner.upsert(repo('r', { schedule: '0 * * * *', runOnceAt: '2025-01-01T00:10:00Z' }));
    await clock.advanceTo(Date.parse('2025-01-01T01:30:00Z'));
    expect(fired.map((f) => `${f.req.cause}@${f.at}`)).toEqual(['runOnceAt@2025-01-01T00:10:00.000Z', 'schedule@2025-01-01T01:00:00.000Z']);
  });
});

describe('SyncPlanner: changes and deletion', () => {
  it('re-plans from now when the schedule changes, and falls back to the period when it is removed', async () => {
    const { clock, fired, planner, plan } = setup(45 * MIN);
    expect(plan(repo('r', { schedule: '0 * * * *' }))).toBe('2025-01-01T01:00:00.000Z');
    await clock.advanceTo(Date.parse('2025-01-01T00:10:00Z'));
    expect(plan(repo('r', { schedule: '*/5 * * * *' }))).toBe('2025-01-01T00:15:00.000Z');
    await clock.advanceTo(Date.parse('2025-01-01T00:21:00Z'));
    planner.upsert(repo('r'));
    expect(planner.planned('default', 'r')).toMatchObject({ periodicCause: 'period' });
    expect(planner.nextSyncTime('default', 'r')?.toISOString()).toBe('2025-01-01T01:06:00.000Z');
    await clock.advanceTo(Date.parse('2025-01-01T01:10:00Z'));
    expect(fired.map((f) => `${f.req.cause}@${f.at}`)).toEqual([
      'schedule@2025-01-01T00:15:00.000Z',
      'schedule@2025-01-01T00:20:00.000Z',
      'period@2025-01-01T01:06:00.000Z',
    ]);
  });

  it('stops firing for a deleted repository, and keeps the others', async () => {
    const { clock, fired, planner } = setup(0);
    planner.upsert(repo('gone', { schedule: '*/5 * * * *', runOnceAt: '2025-01-01T00:12:00Z' }));
    planner.upsert(repo('kept', { schedule: '*/5 * * * *' }, undefined, 'team-b'));
    expect(planner.keys().sort()).toEqual(['default/gone', 'team-b/kept']);
    await clock.advanceTo(Date.parse('2025-01-01T00:11:00Z'));
    planner.remove('default', 'gone');
    expect(planner.planned('default', 'gone')).toBeUndefined();
    expect(planner.nextSyncTime('default', 'gone')).toBeUndefined();
    await clock.advanceTo(Date.parse('2025-01-01T00:31:00Z'));
    expect(fired.map((f) => `${f.req.namespace}/${f.req.name}@${f.at.slice(11, 16)}`)).toEqual([
      'default/gone@00:10',
      'team-b/kept@00:10',
      'team-b/kept@00:15',
      'team-b/kept@00:20',
      'team-b/kept@00:25',
      'team-b/kept@00:30',
    ]);
    planner.stop();
    await clock.advance(60 * MIN);
    expect(fired).toHaveLength(6);
    expect(clock.pending()).toEqual([]);
  });
});
