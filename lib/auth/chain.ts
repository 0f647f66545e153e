import { TLSSocket } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import type { UserInfo } from './user.ts';
import { errors, type StatusError, errMessage } from '../errors.ts';
import type { HeaderSource } from './headers.ts';

export type { HeaderSource } from './headers.ts';

/** What authenticators look at: the headers, and the client certificate when the connection is TLS. */
export interface AuthRequest {
  headers: HeaderSource;
  /** The leaf certificate the client presented. */
  peerCertificate?: X509Certificate;
  /** Further certificates the client sent with it, to build a chain to a trusted CA through. */
  intermediates?: X509Certificate[];
}

/**
 * One way of establishing who is calling. undefined means "no credentials of my kind here"; throwing
 * means credentials of its kind were presented and are not valid.
 */
export interface Authenticator {
  authenticate(req: AuthRequest): Promise<UserInfo | undefined>;
}

export const ANONYMOUS_USER = 'system:anonymous';
export const UNAUTHENTICATED_GROUP = 'system:unauthenticated';
export const AUTHENTICATED_GROUP = 'system:authenticated';

export interface ChainOptions {
  /** Requests without any credentials become system:anonymous rather than a 401. */
  anonymous: boolean;
}

/** Marks the user as authenticated the way kube-apiserver does: once, and never for anonymous. */
function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.username === ANONYMOUS_USER) return user;
  if (user.groups.includes(AUTHENTICATED_GROUP) || user.groups.includes(UNAUTHENTICATED_GROUP)) return user;
  return { ...user, groups: [...user.groups, AUTHENTICATED_GROUP] };
}

function unauthorized(causes: unknown[]): StatusError {
  // The client only ever sees "Unauthorized", as from kube-apiserver, so probing learns nothing; the
  // reasons travel on `cause` for the server's log.
  const err = errors.unauthorized('Unauthorized');
  if (causes.length > 0)
    err.cause = new Error(causes.map((c) => errMessage(c)).join('; '));
  return err;
}

/**
 * Tries authenticators in order; the first to recognise the caller wins, even if an earlier one
 * rejected other credentials on the same request (kube-apiserver's union). Only when none succeeds
 * does a rejection turn into a 401; a request with no credentials at all is anonymous if allowed.
 */
export class AuthenticatorChain {
  constructor(
    private readonly authenticators: Authenticator[],
    private readonly opts: ChainOptions,
  ) {}

  async authenticate(req: AuthRequest): Promise<UserInfo> {
    const failures: unknown[] = [];
    for (const a of this.authenticators) {
      let user: UserInfo | undefined;
      try {
        user = await a.authenticate(req);
      } catch (err) {
        failures.push(err);
        continue;
      }
      if (user) return withAuthenticatedGroup(user);
    }
    if (failures.length > 0 || !this.opts.anonymous) throw unauthorized(failures);
    return { username: ANONYMOUS_USER, groups: [UNAUTHENTICATED_GROUP] };
  }
}

/** The parts of a Node request an AuthRequest is built from (http and http2 requests both fit). */
export interface NodeRequestLike {
  socket?: unknown;
  headersDistinct?: Record<string, string[] | undefined>;
}

const MAX_CHAIN = 10;

/**
 * Builds the AuthRequest for a request served by @hono/node-server, whose Node request is
 * `c.env.incoming`. Headers come from the Node request when given, because only it keeps repeated
 * X-Remote-Group lines apart; the certificate comes from its TLS socket.
 */
export function authRequestFrom(req: Request, incoming?: NodeRequestLike): AuthRequest {
  const out: AuthRequest = { headers: incoming?.headersDistinct ?? req.headers };
  const socket = incoming?.socket;
  if (socket instanceof TLSSocket) {
    const leaf = socket.getPeerX509Certificate();
    if (leaf) {
      out.peerCertificate = leaf;
      const intermediates: X509Certificate[] = [];
      let cur: X509Certificate | undefined = leaf;
      while (intermediates.length < MAX_CHAIN) {
        const next: X509Certificate | undefined = cur.issuerCertificate;
        if (!next || next.fingerprint256 === cur.fingerprint256) break;
        intermediates.push(next);
        cur = next;
      }
      if (intermediates.length > 0) out.intermediates = intermediates;
    }
  }
  return out;
}
