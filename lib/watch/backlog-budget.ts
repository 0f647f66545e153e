// One bound on the bytes every watcher of the process has queued and its client has not read yet,
// next to each watcher's own limit: many slow clients must not add up to the memory of the server.
// A watcher's bytes are counted whole even though its events are shared with other watchers (one
// serialisation each): the count is an upper bound on what is held, never an underestimate.

export interface BudgetMember {
  /** Bytes written to this watcher's connection and not yet taken by its client. */
  backlog(): number;
  /** Whether it may be cut off now (not while its initial events go out). */
  droppable(): boolean;
  /** Cut it off as a slow client: an ERROR event, then the end of the watch. */
  drop(): void;
}

/** 256 MiB: sixteen watchers at the per-watcher limit of 16 MiB. */
export const DEFAULT_TOTAL_BACKLOG_BYTES = 256 * 1024 * 1024;

export class BacklogBudget {
  /** Each member's backlog as last seen: reads only shrink it, so the sum never understates. */
  private readonly seen = new Map<BudgetMember, number>();
  private total = 0;

  constructor(readonly maxBytes: number) {}

  /** Bytes counted now (an upper bound until the next recount). */
  get counted(): number {
    return this.total;
  }

  add(member: BudgetMember): void {
    if (!this.seen.has(member)) this.seen.set(member, 0);
  }

  remove(member: BudgetMember): void {
    this.total -= this.seen.get(member) ?? 0;
    this.seen.delete(member);
  }

  /** `member` just wrote: over the bound, the watchers furthest behind are cut off until it holds. */
  wrote(member: BudgetMember): void {
    const before = this.seen.get(member);
    if (before === undefined) return;
    const now = member.backlog();
    this.seen.set(member, now);
    this.total += now - before;
    if (this.total <= this.maxBytes) return;
    this.recount();
    while (this.total > this.maxBytes) {
      let slowest: BudgetMember | undefined;
      for (const [m, bytes] of this.seen) if (m.droppable() && (!slowest || bytes > this.seen.get(slowest)!)) slowest = m;
      if (!slowest) return;
      // Its queue goes once its client reads the ERROR or, at the latest, when the grace period
      // for slow clients ends: it is no longer counted, so others are not cut off for it meanwhile.
      this.remove(slowest);
      slowest.drop();
    }
  }

  private recount(): void {
    this.total = 0;
    for (const m of this.seen.keys()) {
      const bytes = m.backlog();
      this.seen.set(m, bytes);
      this.total += bytes;
    }
  }
}

/** The bound every watch of the process shares unless told otherwise. */
export const processBacklogBudget = new BacklogBudget(DEFAULT_TOTAL_BACKLOG_BYTES);
