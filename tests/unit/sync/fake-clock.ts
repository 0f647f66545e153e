import type { Clock, TimerHandle } from '../../../lib/sync/clock.ts';

/**
 * A clock that moves only when told to. `advanceTo` runs due timers in time order, letting promise
 * callbacks settle between them as real time would.
 */
export class FakeClock implements Clock {
  private timers: { at: number; fn: () => void; seq: number; cancelled: boolean }[] = [];
  private seq = 0;

  constructor(private t: number) {}

  now(): number {
    return this.t;
  }

  at(at: number, fn: () => void): TimerHandle {
    const timer = { at, fn, seq: this.seq++, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Times of the timers still to run, ascending. */
  pending(): number[] {
    return this.timers.filter((t) => !t.cancelled).map((t) => t.at).sort((a, b) => a - b);
  }

  async advanceTo(to: number): Promise<void> {
    await settle();
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      const due = this.timers.filter((t) => t.at <= to).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers.splice(this.timers.indexOf(due), 1);
      this.t = Math.max(this.t, due.at);
      due.fn();
      await settle();
    }
    this.t = Math.max(this.t, to);
    await settle();
  }

  advance(ms: number): Promise<void> {
    return this.advanceTo(this.t + ms);
  }
}

/** Let pending promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}
