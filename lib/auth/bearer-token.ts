import type { UserInfo } from './user.ts';
import { errors } from '../errors.ts';
import type { AuthRequest, Authenticator } from './chain.ts';
import { headerValue, headerValues } from './headers.ts';

/** Resolves a bearer token; undefined when this source does not know it, throws when it refuses it. */
export interface TokenAuthenticator {
  authenticateToken(token: string): Promise<UserInfo | undefined>;
}

/** Tries token sources in order; a refusal by one does not stop a later one from knowing the token. */
export function unionTokenAuthenticator(...sources: TokenAuthenticator[]): TokenAuthenticator {
  return {
    async authenticateToken(token) {
      const failures: unknown[] = [];
      for (const s of sources) {
        try {
          const user = await s.authenticateToken(token);
          if (user) return user;
        } catch (err) {
          failures.push(err);
        }
      }
      if (failures.length > 0) throw failures[0];
      return undefined;
    },
  };
}

async function resolve(source: TokenAuthenticator, token: string): Promise<UserInfo> {
  const user = await source.authenticateToken(token);
  if (!user) throw errors.unauthorized('invalid bearer token');
  return user;
}

/**
 * `Authorization: Bearer <token>`, parsed as kube-apiserver does: only the word after "Bearer " is
 * the token, and an empty one counts as no credentials.
 */
export function bearerToken(headers: AuthRequest['headers']): string | undefined {
  const auth = headerValue(headers, 'authorization')?.trim();
  if (!auth) return undefined;
  const parts = auth.split(' ');
  if (parts.length < 2 || parts[0].toLowerCase() !== 'bearer' || parts[1] === '') return undefined;
  return parts[1];
}

export class BearerTokenAuthenticator implements Authenticator {
  constructor(private readonly source: TokenAuthenticator) {}

  async authenticate(req: AuthRequest): Promise<UserInfo | undefined> {
    const token = bearerToken(req.headers);
    return token === undefined ? undefined : resolve(this.source, token);
  }
}

const PROTOCOL_PREFIX = 'base64url.bearer.authorization.k8s.io.';

function isWebSocketRequest(headers: AuthRequest['headers']): boolean {
  const connection = headerValues(headers, 'connection').flatMap((v) => v.split(','));
  return (
    connection.some((t) => t.trim().toLowerCase() === 'upgrade') &&
    (headerValue(headers, 'upgrade') ?? '').trim().toLowerCase() === 'websocket'
  );
}

/**
 * Browsers cannot set Authorization on a WebSocket, so Kubernetes clients smuggle the token in as a
 * subprotocol `base64url.bearer.authorization.k8s.io.<token>` next to the real one.
 */
export class WebSocketProtocolTokenAuthenticator implements Authenticator {
  constructor(private readonly source: TokenAuthenticator) {}

  async authenticate(req: AuthRequest): Promise<UserInfo | undefined> {
    if (!isWebSocketRequest(req.headers)) return undefined;
    let token: string | undefined;
    let others = 0;
    for (const line of headerValues(req.headers, 'sec-websocket-protocol')) {
      for (const raw of line.split(',')) {
        const protocol = raw.trim();
        if (!protocol.startsWith(PROTOCOL_PREFIX)) {
          others++;
          continue;
        }
        if (token !== undefined) throw errors.unauthorized('multiple base64.bearer.authorization tokens specified');
        const encoded = protocol.slice(PROTOCOL_PREFIX.length);
        if (!/^[A-Za-z0-9_-]*$/.test(encoded)) throw errors.unauthorized('invalid base64.bearer.authorization token encoding');
        const bytes = Buffer.from(encoded, 'base64url');
        const decoded = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
        if (Buffer.from(decoded, 'utf8').compare(bytes) !== 0) throw errors.unauthorized('invalid base64.bearer.authorization token');
        token = decoded;
      }
    }
    if (!token) return undefined;
    if (others === 0) throw errors.unauthorized('missing additional subprotocol');
    return resolve(this.source, token);
  }
}
