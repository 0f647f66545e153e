import { errors } from '../../lib/errors.ts';
import { isRecord } from '../../lib/util.ts';
import { readObjectBody } from './body.ts';
import type { HandlerContext } from './env.ts';
import { isDryRun } from './query.ts';

export interface DeleteRequest {
  preconditions: { resourceVersion?: string; uid?: string };
  /** The query's dryRun and the body's, checked together. */
  dryRun: boolean;
}

/** DeleteOptions may come as a body (kubectl sends one) or not at all. */
export async function readDeleteOptions(c: HandlerContext, limit: number): Promise<DeleteRequest> {
  const hasBody = Number(c.req.header('content-length') ?? '0') > 0 || c.req.header('transfer-encoding') === 'chunked';
  if (!hasBody) return { preconditions: {}, dryRun: isDryRun(c) };
  const body = await readObjectBody(c, limit);
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
