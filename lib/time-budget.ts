import { errors } from './errors.ts';

// How long one request may keep the server busy with its own CPU work (a merge, a render, parsing a
// large package). Past the deadline the work stops with a 503 naming what it was doing, rather than
// holding a worker, or the event loop, for as long as the input makes it take.

export class TimeBudget {
  private readonly deadline: number;

  constructor(
    readonly ms: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.deadline = clock() + ms;
  }

  remaining(): number {
    return Math.max(0, this.deadline - this.clock());
  }

  /** Throws the budget's Status error once the deadline has passed. */
  check(what: string): void {
    if (this.clock() > this.deadline) throw budgetExceeded(what, this.ms);
  }
}

export function budgetExceeded(what: string, ms: number) {
  const limit = ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
  return errors.unavailable(`${what} needed more than ${limit} of server time and was stopped; make the input smaller`);
}
