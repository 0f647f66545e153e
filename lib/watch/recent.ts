/**
 * Results of an expensive asynchronous read, shared by every caller asking for the same key: many
 * watchers reaching the same event cost one read. Only the most recent `capacity` results are kept,
 * so a long event history never pins what was read for it, and at most `concurrency` reads run at
 * once so a burst of new watchers cannot start an unbounded number of them.
 */
export class RecentResults<V> {
  private readonly entries = new Map<string, Promise<V>>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly capacity = 64,
    private readonly concurrency = 16,
  ) {}

  get(key: string, read: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit) {
      // Map order is insertion order: re-inserting makes this the most recently used entry.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const p = this.limited(read);
    this.entries.set(key, p);
    // A failure is not remembered: the next caller tries again.
    p.catch(() => {
      if (this.entries.get(key) === p) this.entries.delete(key);
    });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return p;
  }

  private async limited(read: () => Promise<V>): Promise<V> {
    if (this.running < this.concurrency) this.running++;
    // A finishing read hands its slot straight to the next waiter, so no newcomer can overtake it.
    else await new Promise<void>((ok) => this.waiting.push(ok));
    try {
      return await read();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
