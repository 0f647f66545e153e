import type { Unsubscribe } from './watch/types.ts';

/** Lets long-lived work (watches) end itself cleanly when the process is asked to stop. */
export class ShutdownSignal {
  private readonly listeners = new Set<() => void>();
  private fired = false;

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
