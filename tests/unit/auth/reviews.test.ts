import { describe, expect, it } from 'vitest';
import { requestAttributes } from '../../../lib/auth/attributes.ts';
import { authorizeOrThrow } from '../../../lib/auth/authorizer.ts';
import { BearerTokenAuthenticator } from '../../../lib/auth/bearer-token.ts';
import { SUBJECT_ACCESS_REVIEW_PATH, SubjectAccessReviewAuthorizer } from '../../../lib/auth/subject-access-review.ts';
import { TOKEN_REVIEW_PATH, TokenReviewAuthenticator } from '../../../lib/auth/token-review.ts';
import type { UserInfo } from '../../../lib/auth/user.ts';
import { StatusError } from '../../../lib/errors.ts';

type Json = Record<string, unknown>;

/**
 * MOCK of kube-apiserver's review endpoints: records what was posted and answers from `respond`,
 * so caching can be checked by counting calls.
 */
function mockKubeApiserver(respond: (path: string, body: Json) => unknown) {
  const calls: { path: string; body: Json }[] = [];
  const post = async (path: string, body: unknown) => {
    calls.push({ path, body: body as Json });
    return respond(path, body as Json);
  };
  return { calls, post };
}

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const spec = (body: Json) => body.spec as Json;

describe('TokenReview authenticator (against a mock kube-apiserver)', () => {
  const tokenReviews = () =>
    mockKubeApiserver((path, body) => {
      expect(path).toBe(TOKEN_REVIEW_PATH);
      expect(body).toMatchObject({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview' });
      const token = spec(body).token;
      if (token === 'good')
        return { status: { authenticated: true, user: { username: 'alice', uid: 'u1', groups: ['team-a'], extra: { scopes: ['x'] } } } };
      if (token === 'revoked') return { status: { authenticated: false, error: 'token has been revoked' } };
      return { status: { authenticated: false } };
    });

  it('returns the user kube-apiserver names and caches it for the success TTL', async () => {
    const api = tokenReviews();
    const t = clock();
    const a = new TokenReviewAuthenticator({ post: api.post, now: t.now, successTtlMs: 10_000 });
    expect(await a.authenticateToken('good')).toEqual({ username: 'alice', uid: 'u1', groups: ['team-a'], extra: { scopes: ['x'] } });
    await a.authenticateToken('good');
    t.advance(9_999);
    await a.authenticateToken('good');
    expect(api.calls).toHaveLength(1);
    t.advance(2);
    await a.authenticateToken('good');
    expect(api.calls).toHaveLength(2);
  });

  it('refuses rejected tokens and caches the refusal for the shorter failure TTL', async () => {
    const api = tokenReviews();
    const t = clock();
    const a = new TokenReviewAuthenticator({ post: api.post, now: t.now, failureTtlMs: 2_000 });
    await expect(a.authenticateToken('revoked')).rejects.toMatchObject({ code: 401, message: 'token has been revoked' });
    await expect(a.authenticateToken('revoked')).rejects.toBeInstanceOf(StatusError);
    expect(api.calls).toHaveLength(1);
    t.advance(2_001);
    await expect(a.authenticateToken('revoked')).rejects.toThrow();
    expect(api.calls).toHaveLength(2);
    await expect(a.authenticateToken('unknown')).rejects.toMatchObject({ message: 'invalid bearer token' });
  });

  it('shares one review among concurrent requests with the same token', async () => {
    const api = tokenReviews();
    const a = new TokenReviewAuthenticator({ post: api.post });
    const users = await Promise.all(Array.from({ length: 5 }, () => a.authenticateToken('good')));
    expect(users.every((u) => u?.username === 'alice')).toBe(true);
    expect(api.calls).toHaveLength(1);
  });

  it('does not cache a failed call, and keeps the cache bounded', async () => {
    let down = true;
    const api = mockKubeApiserver(() => {
      if (down) throw new Error('connect ECONNREFUSED');
      return { status: { authenticated: true, user: { username: 'u' } } };
    });
    const a = new TokenReviewAuthenticator({ post: api.post, maxEntries: 3 });
    await expect(a.authenticateToken('t')).rejects.toMatchObject({ code: 401 });
    down = false;
    expect((await a.authenticateToken('t'))?.username).toBe('u');
    for (const tok of ['a', 'b', 'c', 'd']) await a.authenticateToken(tok);
    expect(a.cacheSize).toBe(3);
  });

  it('sends audiences and refuses a token meant for others', async () => {
    const api = mockKubeApiserver((_p, body) => {
      expect(spec(body).audiences).toEqual(['porch']);
      return { status: { authenticated: true, audiences: ['other'], user: { username: 'u' } } };
    });
    const a = new TokenReviewAuthenticator({ post: api.post, audiences: ['porch'] });
    await expect(a.authenticateToken('t')).rejects.toThrow(/token audiences \["other"\] is invalid/);
  });

  it('plugs into the bearer authenticator', async () => {
    const api = tokenReviews();
    const bearer = new BearerTokenAuthenticator(new TokenReviewAuthenticator({ post: api.post }));
    expect(await bearer.authenticate({ headers: { authorization: 'Bearer good' } })).toMatchObject({ username: 'alice' });
    await expect(bearer.authenticate({ headers: { authorization: 'Bearer nope' } })).rejects.toMatchObject({ code: 401 });
  });
});

describe('SubjectAccessReview authorizer (against a mock kube-apiserver)', () => {
  const alice: UserInfo = { username: 'alice', uid: 'u1', groups: ['team-a', 'system:authenticated'], extra: { z: ['1'], a: ['2'] } };
  const P = '/apis/porch.kpt.dev/v1alpha1';

  const sars = () =>
    mockKubeApiserver((path, body) => {
      expect(path).toBe(SUBJECT_ACCESS_REVIEW_PATH);
      const ra = spec(body).resourceAttributes as Json | undefined;
      if (ra?.subresource === 'approval') return { status: { allowed: false, reason: '' } };
      if (ra?.verb === 'delete') return { status: { allowed: false, denied: true, reason: 'deletes are frozen' } };
      return { status: { allowed: true, reason: 'RBAC: allowed by RoleBinding "authors/team-a" of ClusterRole "porch-author" to User "alice"' } };
    });

  it('posts the request attributes as kube-apiserver would', async () => {
    const api = sars();
    const a = new SubjectAccessReviewAuthorizer({ post: api.post });
    await a.authorize(alice, requestAttributes('PUT', `${P}/namespaces/team-a/packagerevisions/r1/approval`));
    await a.authorize(alice, requestAttributes('GET', '/openapi/v3'));
    expect(api.calls[0].body).toEqual({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: 'alice',
        uid: 'u1',
        groups: ['team-a', 'system:authenticated'],
        extra: { a: ['2'], z: ['1'] },
        resourceAttributes: { namespace: 'team-a', verb: 'update', group: 'porch.kpt.dev', version: 'v1alpha1', resource: 'packagerevisions', subresource: 'approval', name: 'r1' },
      },
    });
    expect(spec(api.calls[1].body).nonResourceAttributes).toEqual({ path: '/openapi/v3', verb: 'get' });
  });

  it('caches allowed answers longer than denied ones', async () => {
    const api = sars();
    const t = clock();
    const a = new SubjectAccessReviewAuthorizer({ post: api.post, now: t.now, allowTtlMs: 10_000, denyTtlMs: 1_000 });
    const list = requestAttributes('GET', `${P}/namespaces/team-a/packagerevisions`);
    const approve = requestAttributes('PUT', `${P}/namespaces/team-a/packagerevisions/r1/approval`);
    expect((await a.authorize(alice, list)).allowed).toBe(true);
    expect((await a.authorize(alice, approve)).allowed).toBe(false);
    t.advance(1_500);
    await a.authorize(alice, list);
    await a.authorize(alice, approve);
    // Only the denial was asked again.
    expect(api.calls.map((c) => (spec(c.body).resourceAttributes as Json).verb)).toEqual(['list', 'update', 'update']);
    // A different user is a different question.
    await a.authorize({ ...alice, groups: ['team-b'] }, list);
    expect(api.calls).toHaveLength(4);
  });

  it('turns an explicit deny into a 403 carrying the reason', async () => {
    const api = sars();
    const a = new SubjectAccessReviewAuthorizer({ post: api.post });
    const attrs = requestAttributes('DELETE', `${P}/namespaces/team-a/packagerevisions/r1`);
    expect(await a.authorize(alice, attrs)).toEqual({ allowed: false, denied: true, reason: 'deletes are frozen' });
    await expect(authorizeOrThrow(a, alice, attrs)).rejects.toMatchObject({
      code: 403,
      message: 'packagerevisions.porch.kpt.dev "r1" is forbidden: User "alice" cannot delete resource "packagerevisions" in API group "porch.kpt.dev" in the namespace "team-a": deletes are frozen',
    });
  });

  it('an unreachable kube-apiserver is a 500, not a 403, and is not cached', async () => {
    let down = true;
    const api = mockKubeApiserver(() => {
      if (down) throw new Error('timeout');
      return { status: { allowed: true } };
    });
    const a = new SubjectAccessReviewAuthorizer({ post: api.post });
    const attrs = requestAttributes('GET', '/api/v1/pods');
    await expect(authorizeOrThrow(a, alice, attrs)).rejects.toMatchObject({ code: 500 });
    down = false;
    expect((await authorizeOrThrow(a, alice, attrs)).allowed).toBe(true);
  });
});
