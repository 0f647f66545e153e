import { errors } from '../../lib/errors.ts';
import { isRecord } from '../../lib/util.ts';
import { readOptionalObjectBody } from './body.ts';
import type { HandlerContext } from './env.ts';
import { isDryRun } from './query.ts';

export interface DeleteRequest {
  preconditions: { resourceVersion?: string; uid?: string };
  /** The query's dryRun and the body's, checked together. */
  dryRun: boolean;
}

/** DeleteOptions may come as a body (kubectl sends one) or not at all. */
export async function readDeleteOptions(c: HandlerContext, limit: number): Promise<DeleteRequest> {
  // Read whether or not a length was declared: options left unread (a dry run among them) would be ignored.
  const body = await readOptionalObjectBody(c, limit);
  if (!body) return { preconditions: {}, dryRun: isDryRun(c) };
  if (body.kind !== undefined && body.kind !== 'DeleteOptions') throw errors.badRequest(`expected DeleteOptions, got ${String(body.kind)}`);
  const pre = isRecord(body.preconditions) ? body.preconditions : {};
  const dry = Array.isArray(body.dryRun) ? body.dryRun : [];
  return {
    preconditions: {
      resourceVersion: typeof pre.resourceVersion === 'string' ? pre.resourceVersion : undefined,
      uid: typeof pre.uid === 'string' ? pre.uid : undefined,
    },
    dryRun: isDryRun(c, dry),
  };
}
