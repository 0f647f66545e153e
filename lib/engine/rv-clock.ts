/**
 * Resource versions for engine-served objects. They must only grow, also across restarts (a client's
 * version from before a restart must never name a different state after it), so they start from the
 * wall clock in microseconds and count up from there.
 */
export class RvClock {
  private last = 0;

  next(): number {
    const now = Date.now() * 1000;
    this.last = now > this.last ? now : this.last + 1;
    return this.last;
  }

  current(): number {
    return this.last || this.next();
  }
}
