import type { Unsubscribe } from './watch/types.ts';

/**
 * Lets long-lived work (watches) end itself cleanly when the process is asked to stop, and counts
 * the requests being served so the process can let them finish before it exits.
 */
export class ShutdownSignal {
  private readonly listeners = new Set<() => void>();
  private fired = false;
  private active = 0;
  private idle: (() => void)[] = [];

  get stopping(): boolean {
    return this.fired;
  }

  /** Run one request's work, counted until it settles. */
  async serve<T>(work: () => Promise<T>): Promise<T> {
    this.active++;
    try {
      return await work();
    } finally {
      if (--this.active === 0) for (const fn of this.idle.splice(0)) fn();
    }
  }

  /** Resolves when no request is being served, or after `timeoutMs`; true when drained. */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.active === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idle.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  readonly onShutdown = (fn: () => void): Unsubscribe => {
    if (this.fired) {
      fn();
      return () => undefined;
    }
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  };

  fire(): void {
    this.fired = true;
    for (const fn of [...this.listeners]) fn();
    this.listeners.clear();
  }
}
