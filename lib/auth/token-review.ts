import { createHash } from 'node:crypto';
import type { UserInfo } from './user.ts';
import { errors } from '../errors.ts';
import { isRecord } from '../util.ts';
import type { TokenAuthenticator } from './bearer-token.ts';
import { postReview, reviewCache, type ApiPoster } from './review-post.ts';
import type { TtlCache } from './ttl-cache.ts';

// gateway/auth.ts takes the poster's type from here.
export type { ApiPoster };

export const TOKEN_REVIEW_PATH = '/apis/authentication.k8s.io/v1/tokenreviews';

export interface TokenReviewOptions {
  post: ApiPoster;
  /** Audiences the token must be meant for; none leaves it to kube-apiserver's default. */
  audiences?: string[];
  /** How long an accepted token is trusted without asking again. */
  successTtlMs?: number;
  /** How long a rejected token stays rejected; short, so a token minted a moment ago soon works. */
  failureTtlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

type Outcome = { user: UserInfo } | { user?: undefined; error: string };

function readUser(v: unknown): UserInfo | undefined {
  if (!isRecord(v) || typeof v.username !== 'string' || v.username === '') return undefined;
  const user: UserInfo = {
    username: v.username,
    groups: Array.isArray(v.groups) ? v.groups.filter((g): g is string => typeof g === 'string') : [],
  };
  if (typeof v.uid === 'string' && v.uid !== '') user.uid = v.uid;
  if (isRecord(v.extra)) {
    const extra: Record<string, string[]> = {};
    for (const [k, vals] of Object.entries(v.extra))
      if (Array.isArray(vals)) extra[k] = vals.filter((x): x is string => typeof x === 'string');
    if (Object.keys(extra).length > 0) user.extra = extra;
  }
  return user;
}

/**
 * Delegated authentication for running behind a real cluster: bearer tokens are checked by posting a
 * TokenReview to kube-apiserver, and answers are cached briefly because a client sends the same token
 * on every request. Tokens are cached under their SHA-256, never in the clear.
 */
export class TokenReviewAuthenticator implements TokenAuthenticator {
  private readonly cache: TtlCache<Outcome>;

  constructor(private readonly opts: TokenReviewOptions) {
    this.cache = reviewCache((o: Outcome) => o.user !== undefined, { positiveTtlMs: opts.successTtlMs, negativeTtlMs: opts.failureTtlMs, maxEntries: opts.maxEntries ?? 1024, now: opts.now });
  }

  async authenticateToken(token: string): Promise<UserInfo | undefined> {
    const audiences = this.opts.audiences ?? [];
    const key = createHash('sha256').update(token).update('\0').update(audiences.join(',')).digest('hex');
    const outcome = await this.cache.getOrLoad(key, () => this.review(token, audiences));
    if (outcome.user) return { ...outcome.user, groups: [...outcome.user.groups] };
    throw errors.unauthorized(outcome.error);
  }

  private async review(token: string, audiences: string[]): Promise<Outcome> {
    const spec = audiences.length > 0 ? { token, audiences } : { token };
    // Unanswered, a 401 that is not cached: kube-apiserver being briefly unreachable must not lock a valid token out.
    const status = await postReview(this.opts.post, TOKEN_REVIEW_PATH, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec }, (m) =>
      errors.unauthorized(`token review failed: ${m}`),
    );
    if (status.authenticated !== true) {
      const why = typeof status.error === 'string' && status.error ? status.error : 'invalid bearer token';
      return { error: why };
    }
    const user = readUser(status.user);
    if (!user) return { error: 'token review accepted the token but named no user' };
    if (audiences.length > 0 && Array.isArray(status.audiences) && status.audiences.length > 0) {
      const granted = status.audiences.filter((a): a is string => typeof a === 'string');
      if (!granted.some((a) => audiences.includes(a)))
        return { error: `token audiences ${JSON.stringify(granted)} is invalid for the target audiences ${JSON.stringify(audiences)}` };
    }
    return { user };
  }

  get cacheSize(): number {
    return this.cache.size;
  }
}
