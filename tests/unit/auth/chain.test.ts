import { describe, expect, it } from 'vitest';
import { requestAttributes } from '../../../lib/auth/attributes.ts';
import {
  alwaysAllowPathsAuthorizer,
  authorizeOrThrow,
  forbiddenError,
  privilegedGroupsAuthorizer,
  unionAuthorizer,
  type Authorizer,
} from '../../../lib/auth/authorizer.ts';
import { BearerTokenAuthenticator, bearerToken, unionTokenAuthenticator, WebSocketProtocolTokenAuthenticator } from '../../../lib/auth/bearer-token.ts';
import { AuthenticatorChain, authRequestFrom, type Authenticator } from '../../../lib/auth/chain.ts';
import { RbacAuthorizer } from '../../../lib/auth/rbac.ts';
import { TokenFileAuthenticator } from '../../../lib/auth/token-file.ts';
import type { UserInfo } from '../../../lib/auth/user.ts';
import { StatusError } from '../../../lib/errors.ts';

const tokens = TokenFileAuthenticator.fromText('t-alice,alice,1,team-a\nt-admin,admin,2,"system:masters"\nt-anon,system:anonymous,3\n');

describe('bearer tokens', () => {
  it('parses the Authorization header as kube-apiserver does', () => {
    expect(bearerToken({ authorization: 'Bearer abc' })).toBe('abc');
    expect(bearerToken({ Authorization: '  bearer abc  ' })).toBe('abc');
    expect(bearerToken({ authorization: 'Bearer abc def' })).toBe('abc');
    expect(bearerToken({ authorization: 'Bearer  abc' })).toBeUndefined();
    expect(bearerToken({ authorization: 'Basic abc' })).toBeUndefined();
    expect(bearerToken({ authorization: 'Bearer' })).toBeUndefined();
    expect(bearerToken(new Headers({ authorization: 'Bearer xyz' }))).toBe('xyz');
    expect(bearerToken({})).toBeUndefined();
  });

  it('an unknown token is a 401, no token is no opinion', async () => {
    const a = new BearerTokenAuthenticator(tokens);
    expect(await a.authenticate({ headers: { authorization: 'Bearer t-alice' } })).toEqual({ username: 'alice', uid: '1', groups: ['team-a'] });
    expect(await a.authenticate({ headers: {} })).toBeUndefined();
    await expect(a.authenticate({ headers: { authorization: 'Bearer wrong' } })).rejects.toMatchObject({ code: 401 });
  });

  it('a token union asks each source in turn', async () => {
    const refuses = { authenticateToken: async () => Promise.reject(new Error('expired')) };
    const u = unionTokenAuthenticator(refuses, tokens);
    expect((await u.authenticateToken('t-alice'))?.username).toBe('alice');
    await expect(u.authenticateToken('other')).rejects.toThrow('expired');
  });

  it('reads a token smuggled in a WebSocket subprotocol', async () => {
    const a = new WebSocketProtocolTokenAuthenticator(tokens);
    const ws = (protocols: string) => ({ headers: { connection: 'keep-alive, Upgrade', upgrade: 'websocket', 'sec-websocket-protocol': protocols } });
    const encoded = Buffer.from('t-alice').toString('base64url');
    expect((await a.authenticate(ws(`v4.channel.k8s.io, base64url.bearer.authorization.k8s.io.${encoded}`)))?.username).toBe('alice');
    await expect(a.authenticate(ws(`base64url.bearer.authorization.k8s.io.${encoded}`))).rejects.toThrow('missing additional subprotocol');
    await expect(a.authenticate(ws('v4.channel.k8s.io, base64url.bearer.authorization.k8s.io.!!'))).rejects.toThrow(/encoding/);
    expect(await a.authenticate(ws('v4.channel.k8s.io'))).toBeUndefined();
    expect(await a.authenticate({ headers: { 'sec-websocket-protocol': `x, base64url.bearer.authorization.k8s.io.${encoded}` } })).toBeUndefined();
  });
});

describe('authenticator chain', () => {
  const fixed = (user: UserInfo | undefined): Authenticator => ({ authenticate: async () => user });
  const failing: Authenticator = {
    authenticate: async () => {
      throw new Error('bad cert');
    },
  };

  it('adds system:authenticated once, and never to anonymous', async () => {
    const chain = (u: UserInfo) => new AuthenticatorChain([fixed(u)], { anonymous: false });
    expect((await chain({ username: 'a', groups: ['g'] }).authenticate({ headers: {} })).groups).toEqual(['g', 'system:authenticated']);
    expect((await chain({ username: 'a', groups: ['system:authenticated'] }).authenticate({ headers: {} })).groups).toEqual(['system:authenticated']);
    expect((await chain({ username: 'system:anonymous', groups: [] }).authenticate({ headers: {} })).groups).toEqual([]);
  });

  it('falls back to anonymous only when allowed and no credentials were refused', async () => {
    const anon = new AuthenticatorChain([fixed(undefined)], { anonymous: true });
    expect(await anon.authenticate({ headers: {} })).toEqual({ username: 'system:anonymous', groups: ['system:unauthenticated'] });
    const closed = new AuthenticatorChain([fixed(undefined)], { anonymous: false });
    await expect(closed.authenticate({ headers: {} })).rejects.toMatchObject({ code: 401, reason: 'Unauthorized' });
    const refused = new AuthenticatorChain([failing], { anonymous: true });
    const err = await refused.authenticate({ headers: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StatusError);
    expect((err as StatusError).message).toBe('Unauthorized');
    expect(((err as StatusError).cause as Error).message).toBe('bad cert');
  });

  it('a later authenticator can still succeed after an earlier one refused', async () => {
    const chain = new AuthenticatorChain([failing, new BearerTokenAuthenticator(tokens)], { anonymous: false });
    expect((await chain.authenticate({ headers: { authorization: 'Bearer t-alice' } })).username).toBe('alice');
  });

  it('builds an AuthRequest from a plain HTTP request', () => {
    const req = new Request('http://localhost/x', { headers: { authorization: 'Bearer t' } });
    const ar = authRequestFrom(req);
    expect(ar.peerCertificate).toBeUndefined();
    expect(bearerToken(ar.headers)).toBe('t');
    expect(authRequestFrom(req, { socket: {}, headersDistinct: { authorization: ['Bearer u'] } }).headers).toEqual({ authorization: ['Bearer u'] });
  });
});

describe('authorizers', () => {
  const deny: Authorizer = { authorize: async () => ({ allowed: false, denied: true, reason: 'no' }) };
  const allow: Authorizer = { authorize: async () => ({ allowed: true, reason: 'yes' }) };
  const noOpinion = (reason: string): Authorizer => ({ authorize: async () => ({ allowed: false, reason }) });
  const u: UserInfo = { username: 'alice', groups: ['system:authenticated'] };
  const attrs = requestAttributes('GET', '/api/v1/namespaces/ns/pods/p');

  it('a union stops at the first allow or explicit deny', async () => {
    expect(await unionAuthorizer(noOpinion('a'), allow, deny).authorize(u, attrs)).toEqual({ allowed: true, reason: 'yes' });
    expect(await unionAuthorizer(noOpinion('a'), deny, allow).authorize(u, attrs)).toMatchObject({ allowed: false, denied: true });
    expect(await unionAuthorizer(noOpinion('a'), noOpinion(''), noOpinion('b')).authorize(u, attrs)).toEqual({ allowed: false, reason: 'a\nb' });
  });

  it('privileged groups and always-allowed paths', async () => {
    const masters = privilegedGroupsAuthorizer();
    expect((await masters.authorize({ username: 'x', groups: ['system:masters'] }, attrs)).allowed).toBe(true);
    expect((await masters.authorize(u, attrs)).allowed).toBe(false);
    const health = alwaysAllowPathsAuthorizer(['/healthz', '/livez', '/readyz', '/openapi/*']);
    expect((await health.authorize(u, requestAttributes('GET', '/healthz'))).allowed).toBe(true);
    expect((await health.authorize(u, requestAttributes('GET', '/openapi/v2'))).allowed).toBe(true);
    expect((await health.authorize(u, requestAttributes('GET', '/metrics'))).allowed).toBe(false);
  });

  it('403 messages match kube-apiserver, escaped for HTML', () => {
    const err = forbiddenError({ username: '<script>', groups: [] }, attrs);
    expect(err.toStatus()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "p" is forbidden: User "&lt;script&gt;" cannot get resource "pods" in API group "" in the namespace "ns"',
      reason: 'Forbidden',
      details: { name: 'p', kind: 'pods' },
      code: 403,
    });
    expect(forbiddenError(u, requestAttributes('GET', '/metrics')).toStatus()).toMatchObject({ message: 'forbidden: User "alice" cannot get path "/metrics"', details: {} });
  });

  it('a typical server stack: always-allowed probes, then RBAC (which knows system:masters)', async () => {
    const rbac = new RbacAuthorizer([]);
    const stack = unionAuthorizer(alwaysAllowPathsAuthorizer(['/healthz']), rbac);
    await expect(authorizeOrThrow(stack, u, requestAttributes('GET', '/healthz'))).resolves.toMatchObject({ allowed: true });
    await expect(authorizeOrThrow(stack, { username: 'root', groups: ['system:masters'] }, attrs)).resolves.toMatchObject({ allowed: true });
    await expect(authorizeOrThrow(stack, u, attrs)).rejects.toMatchObject({
      code: 403,
      message: 'pods "p" is forbidden: User "alice" cannot get resource "pods" in API group "" in the namespace "ns"',
    });
  });
});
