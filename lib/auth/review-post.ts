import { errMessage } from '../errors.ts';
import { isRecord } from '../util.ts';
import { TtlCache } from './ttl-cache.ts';

/** Sends a JSON body to a kube-apiserver path and resolves to the decoded response. */
export type ApiPoster = (path: string, body: unknown) => Promise<unknown>;

/**
 * Creates a review (TokenReview, SubjectAccessReview) in kube-apiserver and resolves to its status, {} where
 * the answer carries none. Where kube-apiserver gives no answer, `unanswered` makes the error: the request was
 * not judged, so the caller says what that means for it, and nothing is cached.
 */
export async function postReview(
  post: ApiPoster,
  path: string,
  review: { apiVersion: string; kind: string; spec: Record<string, unknown> },
  unanswered: (message: string) => Error,
): Promise<Record<string, unknown>> {
  let res: unknown;
  try {
    res = await post(path, review);
  } catch (err) {
    throw unanswered(errMessage(err));
  }
  return isRecord(res) && isRecord(res.status) ? res.status : {};
}

/**
 * A bounded cache of review answers: a positive one holds `positiveTtlMs` (10 s unless given), a negative one
 * `negativeTtlMs` (2 s unless given), short so that a grant or token made a moment ago soon takes effect.
 */
export function reviewCache<T>(
  positive: (answer: T) => boolean,
  opts: { positiveTtlMs?: number; negativeTtlMs?: number; maxEntries: number; now?: () => number },
): TtlCache<T> {
  const positiveTtlMs = opts.positiveTtlMs ?? 10_000;
  const negativeTtlMs = opts.negativeTtlMs ?? 2_000;
  return new TtlCache(opts.maxEntries, (answer) => (positive(answer) ? positiveTtlMs : negativeTtlMs), opts.now);
}
