import { parseFieldSelector, parseLabelSelector, type FieldSelector, type LabelSelector } from '../../lib/api/selectors.ts';
import { errors } from '../../lib/errors.ts';
import type { HandlerContext } from './env.ts';

export interface ListQuery {
  labelSelector: LabelSelector;
  fieldSelector: FieldSelector;
  watch: boolean;
  resourceVersion?: string;
  timeoutSeconds?: number;
  allowWatchBookmarks: boolean;
  sendInitialEvents: boolean;
}

function flag(v: string | undefined): boolean {
  return v === 'true' || v === '1';
}

export function listQuery(c: HandlerContext): ListQuery {
  const timeout = c.req.query('timeoutSeconds');
  let timeoutSeconds: number | undefined;
  if (timeout !== undefined && timeout !== '') {
    timeoutSeconds = Number(timeout);
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 0) throw errors.badRequest(`invalid timeoutSeconds "${timeout}"`);
  }
  return {
    labelSelector: parseLabelSelector(c.req.query('labelSelector')),
    fieldSelector: parseFieldSelector(c.req.query('fieldSelector')),
    watch: flag(c.req.query('watch')),
    resourceVersion: c.req.query('resourceVersion') || undefined,
    timeoutSeconds,
    allowWatchBookmarks: flag(c.req.query('allowWatchBookmarks')),
    sendInitialEvents: flag(c.req.query('sendInitialEvents')),
  };
}

export function isDryRun(c: HandlerContext): boolean {
  const v = c.req.queries('dryRun') ?? [];
  for (const x of v) if (x !== 'All') throw errors.badRequest(`unsupported dryRun value "${x}": only "All" is supported`);
  return v.length > 0;
}
