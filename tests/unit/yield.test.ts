import { describe, expect, it } from 'vitest';
import { StatusError } from '../../lib/errors.ts';
import { TimeBudget } from '../../lib/time-budget.ts';
import { runNow, runSliced, TimeSlice, type Steps } from '../../lib/yield.ts';

// Long CPU work gives the event loop a turn once per slice, and stops with a 503 past its budget.

function* busy(steps: number, msEach: number): Steps<number> {
  for (let i = 0; i < steps; i++) {
    const until = performance.now() + msEach;
    while (performance.now() < until);
    yield;
  }
  return steps;
}

describe('time slices', () => {
  it('runs work straight through, or letting timers fire between slices', async () => {
    expect(runNow(busy(5, 1))).toBe(5);
    let fired = 0;
    const timer = setInterval(() => fired++, 0);
    try {
      expect(await runSliced(busy(100, 2))).toBe(100);
    } finally {
      clearInterval(timer);
    }
    // 200 ms of work in 20 ms slices: several turns, not none.
    expect(fired).toBeGreaterThanOrEqual(3);
  });

  it('does not pause before the slice is used up', async () => {
    const slice = new TimeSlice(undefined, 'work', 1_000);
    let turns = 0;
    setImmediate(() => turns++);
    for (let i = 0; i < 1000; i++) await slice.tick();
    expect(turns).toBe(0);
  });

  it('stops work past its budget with a 503 naming it', async () => {
    const err = await runSliced(busy(1000, 2), new TimeBudget(30), 'the test merge').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StatusError);
    expect((err as StatusError).code).toBe(503);
    expect((err as StatusError).message).toContain('the test merge needed more than');
  });
});
