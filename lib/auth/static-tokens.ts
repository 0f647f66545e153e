import { timingSafeEqual } from 'node:crypto';
import type { UserInfo } from './user.ts';
import { errors } from '../errors.ts';

/** Bearer tokens known up front (the dev runner's admin token, a tokens file). */
export class StaticTokenAuthenticator {
  constructor(private readonly tokens: Map<string, UserInfo>) {}

  /** As a source for BearerTokenAuthenticator: undefined for a token it does not hold. */
  async authenticateToken(token: string): Promise<UserInfo | undefined> {
    const given = Buffer.from(token);
    for (const [known, user] of this.tokens) {
      const want = Buffer.from(known);
      if (want.length === given.length && timingSafeEqual(want, given)) return user;
    }
    return undefined;
  }

  /** undefined when the request carries no bearer token; 401 when it carries an unknown one. */
  authenticate(req: Request): UserInfo | undefined {
    const header = req.headers.get('authorization');
    if (!header) return undefined;
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!m) return undefined;
    const given = Buffer.from(m[1]);
    for (const [token, user] of this.tokens) {
      const want = Buffer.from(token);
      if (want.length === given.length && timingSafeEqual(want, given)) return user;
    }
    throw errors.unauthorized('Unauthorized: invalid bearer token');
  }
}
