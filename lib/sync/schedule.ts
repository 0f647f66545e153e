import { Cron } from 'croner';
import { errMessage } from '../errors.ts';

// What `spec.sync` of a Repository asks for, parsed once: the cron schedule (croner; five fields as
// in Porch, or six with seconds first) read in UTC, and the one-off `runOnceAt`.

export interface CronSchedule {
  readonly expression: string;
  /** The first firing strictly after `from` (ms since the epoch). */
  next(from: number): number;
}

/** `error` says what is wrong, without repeating the expression. */
export type ScheduleParse = { ok: true; schedule: CronSchedule } | { ok: false; error: string };

export function parseSchedule(expression: string): ScheduleParse {
  const text = expression.trim();
  let cron: Cron;
  try {
    cron = new Cron(text, { timezone: 'Etc/UTC', mode: '5-or-6-parts' });
  } catch (err) {
    return { ok: false, error: cronMessage(err) };
  }
  // A pattern that parses but never matches (30 February) would leave the repository unsynced forever.
  if (!cron.nextRun(new Date(0))) return { ok: false, error: 'the schedule never fires' };
  return {
    ok: true,
    schedule: {
      expression: text,
      next(from) {
        const at = cron.nextRun(new Date(from));
        // Past the last possible match (cannot happen for patterns without a year): try again in a day.
        return at ? at.getTime() : from + 86_400_000;
      },
    },
  };
}

function cronMessage(err: unknown): string {
  return errMessage(err).replace(/^CronPattern:\s*/, '');
}

/** `spec.sync.runOnceAt` / `status.observedRunOnceAt` as ms since the epoch; undefined when absent or not a time. */
export function parseTime(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : t;
}

export interface SyncSpec {
  schedule?: string;
  runOnceAt?: string;
}

/** Problems with `spec.sync` a client should be told about (field path → message). */
export function syncSpecProblems(sync: SyncSpec | undefined): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  if (sync?.schedule !== undefined && sync.schedule.trim() !== '') {
    const parsed = parseSchedule(sync.schedule);
    if (!parsed.ok) out.push({ field: 'spec.sync.schedule', message: `Invalid value: "${sync.schedule}": ${parsed.error}` });
  }
  if (sync?.runOnceAt && parseTime(sync.runOnceAt) === undefined)
    out.push({ field: 'spec.sync.runOnceAt', message: `Invalid value: "${sync.runOnceAt}": must be an RFC 3339 time` });
  return out;
}
