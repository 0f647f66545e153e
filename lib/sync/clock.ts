// Time as the sync scheduler sees it. Injected so tests can move time by hand instead of waiting.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Call `fn` once, at `at` (ms since the epoch) or as soon as possible after it. */
  at(at: number, fn: () => void): TimerHandle;
}

/** Node's setTimeout cannot wait longer than this; longer waits are taken in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  at(at, fn) {
    let timer: NodeJS.Timeout | undefined;
    let cancelled = false;
    // Always asynchronous, even for a time already past: callers arm timers while holding state.
    const arm = () => {
      const delay = Math.max(0, at - Date.now());
      timer = setTimeout(() => {
        if (cancelled) return;
        if (Date.now() < at) arm();
        else fn();
      }, Math.min(delay, MAX_DELAY_MS));
      // A pending sync must not keep the process alive on its own.
      timer.unref();
    };
    arm();
    return {
      cancel() {
        cancelled = true;
        if (timer) clearTimeout(timer);
      },
    };
  },
};
