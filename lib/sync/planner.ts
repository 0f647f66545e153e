import type { Repository } from '../api/repository.ts';
import { errMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { parseSchedule, parseTime, type CronSchedule } from './schedule.ts';

// When each Repository syncs: on its cron `spec.sync.schedule`, or every default period without one
// (an invalid schedule falls back to the period: the repository keeps syncing while its status
// reports the mistake), plus once at `spec.sync.runOnceAt` while that is later than
// `status.observedRunOnceAt`. The planner only decides when; `fire` does the work.

/** Why a sync was fired: start-up and a Repository change come from the scheduler, the rest from plans. */
export type SyncCause = 'schedule' | 'period' | 'runOnceAt' | 'startup' | 'change';

export interface SyncRequest {
  namespace: string;
  name: string;
  cause: SyncCause;
  /** For cause runOnceAt: the `spec.sync.runOnceAt` being honoured, to be recorded as observed. */
  runOnceAt?: string;
}

export interface SyncPlannerOptions {
  clock: Clock;
  /** Period for repositories without a (valid) schedule; 0 or less: none. */
  defaultPeriodMs: number;
  /** Runs one sync; settles when it is done (it must not hang: the engine bounds every sync). */
  fire(req: SyncRequest): Promise<void>;
  log: Logger;
}

/** What is planned for one repository, for status and inspection. */
export interface PlannedSync {
  /** The next periodic (schedule or default period) firing. */
  periodicAt?: Date;
  periodicCause?: 'schedule' | 'period';
  /** A pending one-off firing. */
  runOnceAt?: Date;
  /** Why `spec.sync.schedule` was not used. */
  scheduleError?: string;
}

/** The part of the planner the engine reads when it writes `status.nextFullSyncTime`. */
export interface SyncPlanView {
  nextSyncTime(namespace: string, name: string): Date | undefined;
}

interface Plan {
  namespace: string;
  name: string;
  removed: boolean;
  scheduleText: string | undefined;
  schedule: CronSchedule | undefined;
  scheduleError: string | undefined;
  periodicAt: number | undefined;
  periodicTimer: TimerHandle | undefined;
  periodicRunning: boolean;
  runOnce: { text: string; at: number; timer: TimerHandle } | undefined;
  /** The runOnceAt fired last, until the status records it (so an unrelated update does not fire it again). */
  firedRunOnce: string | undefined;
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export class SyncPlanner implements SyncPlanView {
  private readonly plans = new Map<string, Plan>();
  private stopped = false;

  constructor(private readonly opts: SyncPlannerOptions) {}

  /** Take in a Repository as it is now (created or changed); re-plans only what its change affects. */
  upsert(repo: Repository): void {
    if (this.stopped) return;
    const namespace = repo.metadata.namespace ?? 'default';
    const name = repo.metadata.name ?? '';
    const k = key(namespace, name);
    let plan = this.plans.get(k);
    const scheduleText = repo.spec?.sync?.schedule?.trim() || undefined;
    if (!plan) {
      plan = {
        namespace,
        name,
        removed: false,
        scheduleText: undefined,
        schedule: undefined,
        scheduleError: undefined,
        periodicAt: undefined,
        periodicTimer: undefined,
        periodicRunning: false,
        runOnce: undefined,
        firedRunOnce: undefined,
      };
      this.plans.set(k, plan);
      this.setSchedule(plan, scheduleText);
    } else if (plan.scheduleText !== scheduleText) {
      this.setSchedule(plan, scheduleText);
    }
    this.planRunOnce(plan, repo);
  }

  remove(namespace: string, name: string): void {
    const k = key(namespace, name);
    const plan = this.plans.get(k);
    if (!plan) return;
    this.plans.delete(k);
    plan.removed = true;
    plan.periodicTimer?.cancel();
    plan.runOnce?.timer.cancel();
    this.opts.log.debug('repository sync unscheduled', { namespace, repository: name });
  }

  planned(namespace: string, name: string): PlannedSync | undefined {
    const plan = this.plans.get(key(namespace, name));
    if (!plan) return undefined;
    return {
      periodicAt: plan.periodicAt === undefined ? undefined : new Date(plan.periodicAt),
      periodicCause: plan.periodicAt === undefined ? undefined : plan.schedule ? 'schedule' : 'period',
      runOnceAt: plan.runOnce ? new Date(plan.runOnce.at) : undefined,
      scheduleError: plan.scheduleError,
    };
  }

  /** The earliest planned firing of a repository. */
  nextSyncTime(namespace: string, name: string): Date | undefined {
    const plan = this.plans.get(key(namespace, name));
    if (!plan) return undefined;
    const times = [plan.periodicAt, plan.runOnce?.at].filter((t): t is number => t !== undefined);
    return times.length ? new Date(Math.min(...times)) : undefined;
  }

  /** Repositories planned for, as "namespace/name". */
  keys(): string[] {
    return [...this.plans.keys()];
  }

  stop(): void {
    this.stopped = true;
    for (const plan of this.plans.values()) {
      plan.periodicTimer?.cancel();
      plan.runOnce?.timer.cancel();
    }
    this.plans.clear();
  }

  // ---- periodic ----

  private setSchedule(plan: Plan, text: string | undefined): void {
    plan.scheduleText = text;
    plan.schedule = undefined;
    plan.scheduleError = undefined;
    if (text !== undefined) {
      const parsed = parseSchedule(text);
      if (parsed.ok) plan.schedule = parsed.schedule;
      else {
        plan.scheduleError = parsed.error;
        this.opts.log.warn('invalid repository sync schedule; using the default period', {
          namespace: plan.namespace,
          repository: plan.name,
          schedule: text,
          error: parsed.error,
        });
      }
    }
    this.armPeriodic(plan, this.opts.clock.now());
  }

  private armPeriodic(plan: Plan, from: number): void {
    plan.periodicTimer?.cancel();
    plan.periodicTimer = undefined;
    plan.periodicAt = undefined;
    let at: number | undefined;
    if (plan.schedule) at = plan.schedule.next(from);
    else if (this.opts.defaultPeriodMs > 0) at = from + this.opts.defaultPeriodMs;
    if (at === undefined) return;
    plan.periodicAt = at;
    plan.periodicTimer = this.opts.clock.at(at, () => this.firePeriodic(plan));
  }

  private firePeriodic(plan: Plan): void {
    if (plan.removed || this.stopped) return;
    const due = plan.periodicAt ?? this.opts.clock.now();
    // The next firing is planned before this one runs, so the status written by this sync names it.
    // Firings missed while the process was busy are not made up in a burst.
    this.armPeriodic(plan, Math.max(due, this.opts.clock.now()));
    const cause = plan.schedule ? 'schedule' : 'period';
    if (plan.periodicRunning) {
      this.opts.log.info('repository sync still running; skipping this firing', { namespace: plan.namespace, repository: plan.name, cause });
      return;
    }
    plan.periodicRunning = true;
    void this.run(plan, { namespace: plan.namespace, name: plan.name, cause }).finally(() => {
      plan.periodicRunning = false;
    });
  }

  // ---- one-off ----

  private planRunOnce(plan: Plan, repo: Repository): void {
    const text = repo.spec?.sync?.runOnceAt || undefined;
    const at = parseTime(text);
    const observed = parseTime(repo.status?.observedRunOnceAt);
    const done = at !== undefined && observed !== undefined && at <= observed;
    if (done || text === undefined) plan.firedRunOnce = undefined;
    const pending = text !== undefined && at !== undefined && !done && plan.firedRunOnce !== text;
    if (!pending) {
      plan.runOnce?.timer.cancel();
      plan.runOnce = undefined;
      return;
    }
    if (plan.runOnce?.text === text) return;
    plan.runOnce?.timer.cancel();
    // A time already past (the server was down then) fires at once rather than never.
    const fireAt = Math.max(at, this.opts.clock.now());
    plan.runOnce = {
      text,
      at: fireAt,
      timer: this.opts.clock.at(fireAt, () => {
        if (plan.removed || this.stopped || plan.runOnce?.text !== text) return;
        plan.runOnce = undefined;
        plan.firedRunOnce = text;
        void this.run(plan, { namespace: plan.namespace, name: plan.name, cause: 'runOnceAt', runOnceAt: text });
      }),
    };
  }

  private async run(plan: Plan, req: SyncRequest): Promise<void> {
    this.opts.log.debug('repository sync fired', { namespace: req.namespace, repository: req.name, cause: req.cause });
    try {
      await this.opts.fire(req);
    } catch (err) {
      this.opts.log.warn('scheduled repository sync failed', {
        namespace: plan.namespace,
        repository: plan.name,
        cause: req.cause,
        error: errMessage(err),
      });
    }
  }
}
