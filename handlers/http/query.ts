import { parseFieldSelector, parseLabelSelector, type FieldSelector, type LabelSelector } from '../../lib/api/selectors.ts';
import { errors } from '../../lib/errors.ts';
import type { HandlerContext } from './env.ts';

export interface ListQuery {
  /** The namespace of the path; undefined lists across all namespaces. */
  namespace?: string;
  labelSelector: LabelSelector;
  /** The fieldSelector parameter, plus metadata.name when the path names one object (a watch of it). */
  fieldSelector: FieldSelector;
  watch: boolean;
  resourceVersion?: string;
  timeoutSeconds?: number;
  allowWatchBookmarks: boolean;
  sendInitialEvents: boolean;
}

/** A boolean query parameter as Go's strconv.ParseBool reads it (kube-apiserver's decoding); else 400. */
function flag(c: HandlerContext, name: string): boolean {
  const v = c.req.query(name);
  if (v === undefined || v === '') return false;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw errors.badRequest(`invalid value ${JSON.stringify(v)} for query parameter "${name}": must be true or false`);
}

export function listQuery(c: HandlerContext): ListQuery {
  const timeout = c.req.query('timeoutSeconds');
  let timeoutSeconds: number | undefined;
  if (timeout !== undefined && timeout !== '') {
    timeoutSeconds = Number(timeout);
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 0) throw errors.badRequest(`invalid timeoutSeconds "${timeout}"`);
  }
  const limit = c.req.query('limit');
  // Lists are answered whole (no continue token), which the API allows; a limit must still be a number.
  if (limit !== undefined && limit !== '' && !/^\d+$/.test(limit)) throw errors.badRequest(`invalid limit ${JSON.stringify(limit)}: must be a non-negative integer`);
  const fieldSelector = parseFieldSelector(c.req.query('fieldSelector'));
  const name = c.req.param('name');
  if (name) fieldSelector.push({ field: 'metadata.name', op: 'eq', value: name });
  return {
    namespace: c.req.param('namespace'),
    labelSelector: parseLabelSelector(c.req.query('labelSelector')),
    fieldSelector,
    watch: flag(c, 'watch'),
    resourceVersion: c.req.query('resourceVersion') || undefined,
    timeoutSeconds,
    allowWatchBookmarks: flag(c, 'allowWatchBookmarks'),
    sendInitialEvents: flag(c, 'sendInitialEvents'),
  };
}

const OPTIONS_KIND: Record<string, string> = { POST: 'CreateOptions', PUT: 'UpdateOptions', PATCH: 'PatchOptions', DELETE: 'DeleteOptions' };

/**
 * Whether a write is a dry run: the `dryRun` query parameter (or `extra`, a DeleteOptions body's
 * values). "All" is the only value; anything else is kube-apiserver's 422 on the verb's options kind.
 */
export function isDryRun(c: HandlerContext, extra: readonly unknown[] = []): boolean {
  const values = [...(c.req.queries('dryRun') ?? []), ...extra];
  if (values.some((v) => v !== 'All')) {
    const kind = OPTIONS_KIND[c.req.method] ?? 'CreateOptions';
    throw errors.invalid(kind, 'meta.k8s.io', '', [
      { reason: 'FieldValueNotSupported', field: 'dryRun', message: `Unsupported value: ${JSON.stringify(values)}: supported values: "All"` },
    ]);
  }
  return values.length > 0;
}
