import { setImmediate } from 'node:timers/promises';
import type { TimeBudget } from './time-budget.ts';

// Long CPU work on the event loop must let other requests (and /healthz) in between its steps.
// Work is written as a generator whose `yield`s mark where it may pause; `runNow` runs it straight
// through for synchronous callers, `runSliced` pauses whenever it has held the loop for a slice.

/** Work that may pause at each `yield`. */
export type Steps<T> = Generator<void, T, void>;

/** How long work holds the event loop before giving others a turn. */
export const SLICE_MS = 20;

/** Gives the event loop a turn once the current slice is used up; async loops await `tick()`. */
export class TimeSlice {
  private started = performance.now();

  constructor(
    private readonly budget?: TimeBudget,
    private readonly what = 'the request',
    private readonly sliceMs = SLICE_MS,
  ) {}

  async tick(): Promise<void> {
    if (performance.now() - this.started < this.sliceMs) return;
    this.budget?.check(this.what);
    await setImmediate();
    this.started = performance.now();
    this.budget?.check(this.what);
  }
}

export function runNow<T>(work: Steps<T>): T {
  for (;;) {
    const step = work.next();
    if (step.done) return step.value;
  }
}

export async function runSliced<T>(work: Steps<T>, budget?: TimeBudget, what?: string): Promise<T> {
  const slice = new TimeSlice(budget, what);
  for (;;) {
    const step = work.next();
    if (step.done) return step.value;
    await slice.tick();
  }
}
