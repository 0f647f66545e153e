import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDelegatedAuth, type GatewayAuth } from '../../gateway/auth.ts';
import { attributesOf } from '../../lib/auth/attributes.ts';
import { authorizeOrThrow } from '../../lib/auth/authorizer.ts';
import { EXTENSION_APISERVER_AUTHENTICATION_PATH } from '../../lib/auth/delegated-config.ts';
import { SUBJECT_ACCESS_REVIEW_PATH } from '../../lib/auth/subject-access-review.ts';
import { TOKEN_REVIEW_PATH } from '../../lib/auth/token-review.ts';
import { createCertificateAuthority, generateServingCertificate, type CertificateAuthority, type PemPair } from '../../lib/auth/tls.ts';
import { errors, StatusError } from '../../lib/errors.ts';
import { httpsText } from '../support/https-text.ts';

type Json = Record<string, unknown>;

/**
 * MOCK of kube-apiserver for the delegated wiring (no real kube-apiserver can run here): answers
 * TokenReviews, SubjectAccessReviews and the extension-apiserver-authentication ConfigMap, and
 * records every call.
 */
function mockKubeApiserver(configMap: () => unknown) {
  const calls: { method: string; path: string; body?: Json }[] = [];
  const post = async (path: string, body: unknown) => {
    calls.push({ method: 'POST', path, body: body as Json });
    const spec = (body as { spec: Json }).spec;
    if (path === TOKEN_REVIEW_PATH) {
      if (spec.token === 'alice-token') return { status: { authenticated: true, user: { username: 'alice', groups: ['team-a'] } } };
      if (spec.token === 'admin-token') return { status: { authenticated: true, user: { username: 'root', groups: ['system:masters'] } } };
      return { status: { authenticated: false, error: 'token not recognised' } };
    }
    if (path === SUBJECT_ACCESS_REVIEW_PATH) {
      const ra = spec.resourceAttributes as Json | undefined;
      if (spec.user === 'alice' && ra?.verb === 'list' && ra.namespace === 'team-a') return { status: { allowed: true, reason: 'RBAC: allowed' } };
      return { status: { allowed: false, reason: 'no RBAC policy matched' } };
    }
    throw errors.notFound({ group: '', resource: 'paths' }, path);
  };
  const get = async (path: string) => {
    calls.push({ method: 'GET', path });
    return configMap();
  };
  return { calls, post, get };
}

const porch = (path: string, headers: Record<string, string> = {}) => new Request(`https://porch.test${path}`, { headers });

describe('delegated authentication and authorization (cluster mode) wiring', () => {
  let frontProxyCA: CertificateAuthority;
  let clientCA: CertificateAuthority;
  let serving: PemPair;

  beforeAll(async () => {
    [frontProxyCA, clientCA, serving] = await Promise.all([
      createCertificateAuthority({ commonName: 'front-proxy-ca' }),
      createCertificateAuthority({ commonName: 'cluster-client-ca' }),
      generateServingCertificate(),
    ]);
  });

  const publishedConfigMap = () => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'extension-apiserver-authentication', namespace: 'kube-system' },
    data: {
      'client-ca-file': clientCA.certPem,
      'requestheader-client-ca-file': frontProxyCA.certPem,
      'requestheader-allowed-names': '["front-proxy-client"]',
      'requestheader-username-headers': '["X-Proxy-User"]',
      'requestheader-group-headers': '["X-Proxy-Group"]',
      'requestheader-extra-headers-prefix': '["X-Proxy-Extra-"]',
    },
  });

  it('checks bearer tokens with TokenReview and decides with SubjectAccessReview', async () => {
    const api = mockKubeApiserver(publishedConfigMap);
    const auth = await buildDelegatedAuth({ post: api.post, get: api.get, allowAnonymous: false });
    const list = porch('/apis/porch.kpt.dev/v1alpha1/namespaces/team-a/packagerevisions', { authorization: 'Bearer alice-token' });
    const alice = await auth.authenticate(list);
    expect(alice).toEqual({ username: 'alice', groups: ['team-a', 'system:authenticated'] });
    expect((await authorizeOrThrow(auth.authorizer, alice, attributesOf(list))).allowed).toBe(true);

    const other = porch('/apis/porch.kpt.dev/v1alpha1/namespaces/team-b/packagerevisions');
    await expect(authorizeOrThrow(auth.authorizer, alice, attributesOf(other))).rejects.toMatchObject({
      code: 403,
      message: expect.stringContaining('User "alice" cannot list resource "packagerevisions" in API group "porch.kpt.dev" in the namespace "team-b"'),
    });
    const sar = api.calls.filter((c) => c.path === SUBJECT_ACCESS_REVIEW_PATH);
    expect(sar.map((c) => (c.body?.spec as Json).resourceAttributes)).toEqual([
      { namespace: 'team-a', verb: 'list', group: 'porch.kpt.dev', version: 'v1alpha1', resource: 'packagerevisions' },
      { namespace: 'team-b', verb: 'list', group: 'porch.kpt.dev', version: 'v1alpha1', resource: 'packagerevisions' },
    ]);

    await expect(auth.authenticate(porch('/apis', { authorization: 'Bearer stolen' }))).rejects.toMatchObject({ code: 401 });
    // Without anonymous access a request without credentials is refused.
    await expect(auth.authenticate(porch('/apis'))).rejects.toMatchObject({ code: 401 });
  });

  it('allows health probes and system:masters without asking kube-apiserver', async () => {
    const api = mockKubeApiserver(publishedConfigMap);
    const auth = await buildDelegatedAuth({ post: api.post, get: api.get, allowAnonymous: true });
    const anonymous = await auth.authenticate(porch('/readyz'));
    expect(anonymous.username).toBe('system:anonymous');
    expect((await authorizeOrThrow(auth.authorizer, anonymous, attributesOf(porch('/readyz')))).allowed).toBe(true);
    const root = await auth.authenticate(porch('/apis', { authorization: 'Bearer admin-token' }));
    const del = porch('/apis/porch.kpt.dev/v1alpha1/namespaces/x/packagerevisions/y');
    expect((await authorizeOrThrow(auth.authorizer, root, { ...attributesOf(del), verb: 'delete' })).allowed).toBe(true);
    expect(api.calls.filter((c) => c.path === SUBJECT_ACCESS_REVIEW_PATH)).toHaveLength(0);
    // Anonymous is still judged by SubjectAccessReview everywhere else.
    await expect(authorizeOrThrow(auth.authorizer, anonymous, attributesOf(porch('/apis')))).rejects.toMatchObject({ code: 403 });
  });

  it('reads the CAs and front-proxy headers from kube-system/extension-apiserver-authentication', async () => {
    const api = mockKubeApiserver(publishedConfigMap);
    const auth = await buildDelegatedAuth({ post: api.post, get: api.get, allowAnonymous: false });
    expect(api.calls.filter((c) => c.method === 'GET').map((c) => c.path)).toEqual([EXTENSION_APISERVER_AUTHENTICATION_PATH]);
    expect(auth.clientCAPem).toEqual([frontProxyCA.certPem, clientCA.certPem]);
    expect(auth.strip).toEqual({ exact: ['X-Proxy-User', 'X-Proxy-Group'], prefixes: ['x-proxy-extra-'] });
  });

  it('goes on without the ConfigMap when the cluster has none, and fails start-up when it may not read it', async () => {
    const none = mockKubeApiserver(() => {
      throw errors.notFound({ group: '', resource: 'configmaps' }, 'extension-apiserver-authentication');
    });
    const auth = await buildDelegatedAuth({ post: none.post, get: none.get, allowAnonymous: false });
    expect(auth.clientCAPem).toEqual([]);
    expect((await auth.authenticate(porch('/apis', { authorization: 'Bearer alice-token' }))).username).toBe('alice');

    const forbidden = mockKubeApiserver(() => {
      throw new StatusError(403, 'Forbidden', 'configmaps "extension-apiserver-authentication" is forbidden: User "system:serviceaccount:porch-system:porch-ts-server" cannot get resource "configmaps"');
    });
    await expect(buildDelegatedAuth({ post: forbidden.post, get: forbidden.get, allowAnonymous: false })).rejects.toThrow(
      /extension-apiserver-authentication failed: .*forbidden.*--authentication-skip-lookup/,
    );

    // --authentication-skip-lookup: no lookup at all.
    const skipped = mockKubeApiserver(publishedConfigMap);
    const noLookup = await buildDelegatedAuth({ post: skipped.post, allowAnonymous: false });
    expect(skipped.calls).toHaveLength(0);
    expect(noLookup.clientCAPem).toEqual([]);
  });

  describe('over TLS, with client certificates', () => {
    let server: Server;
    let auth: GatewayAuth;
    let url: string;

    beforeAll(async () => {
      const api = mockKubeApiserver(publishedConfigMap);
      auth = await buildDelegatedAuth({ post: api.post, get: api.get, allowAnonymous: false });
      // A server wired as gateway/main.ts wires it: client certificates asked for, checked by the authenticators.
      const handle = (req: IncomingMessage, res: ServerResponse) => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(req.headersDistinct)) for (const x of v ?? []) headers.append(k, x);
        auth.authenticate(new Request(`https://porch.test${req.url}`, { headers }), req).then(
          (user) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(user)),
          (err: unknown) => res.writeHead(err instanceof StatusError ? err.code : 500).end(),
        );
      };
      server = createServer({ cert: serving.certPem, key: serving.keyPem, requestCert: true, rejectUnauthorized: false, ca: auth.clientCAPem }, handle);
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
      url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/apis`;
    });

    afterAll(async () => {
      server?.closeAllConnections();
      await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
    });

    const call = (cert: PemPair, headers: Record<string, string> = {}) => httpsText(url, { cert: cert.certPem, key: cert.keyPem, ca: serving.certPem, headers });

    it('believes the front proxy named in the ConfigMap, with its header names', async () => {
      const proxy = await frontProxyCA.issue({ commonName: 'front-proxy-client' });
      const r = await call(proxy, { 'X-Proxy-User': 'carol', 'X-Proxy-Group': 'team-c', 'X-Proxy-Extra-Scopes': 'view' });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual({ username: 'carol', groups: ['team-c', 'system:authenticated'], extra: { scopes: ['view'] } });
      // A certificate from the same CA with a name not in requestheader-allowed-names is not the proxy.
      const impostor = await frontProxyCA.issue({ commonName: 'someone-else' });
      expect((await call(impostor, { 'X-Proxy-User': 'carol' })).status).toBe(401);
    });

    it("accepts client certificates of the cluster's client CA", async () => {
      const bob = await clientCA.issue({ commonName: 'bob', organizations: ['team-b'] });
      const r = await call(bob);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ username: 'bob', groups: ['team-b', 'system:authenticated'] });
      const foreign = await (await createCertificateAuthority({ commonName: 'unknown-ca' })).issue({ commonName: 'mallory' });
      expect((await call(foreign)).status).toBe(401);
    });
  });
});
