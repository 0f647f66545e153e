import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildGateway } from '../../gateway/app.ts';
import { servedResources } from '../../gateway/routes.ts';
import { bootstrapPolicy } from '../../lib/auth/default-policy.ts';
import { parseRbacYaml } from '../../lib/auth/rbac-objects.ts';
import { RbacAuthorizer } from '../../lib/auth/rbac.ts';
import type { UserInfo } from '../../lib/auth/user.ts';
import type { AppContext } from '../../lib/context.ts';
import { jsonRequest, testContext } from '../support/context.ts';

// The review APIs kubectl auth uses: served and discovered where the server stands in for
// kube-apiserver (dev mode), answered by the gateway's own authenticator and authorizer; absent in
// cluster mode, where they are kube-apiserver's.

const ALICE: UserInfo = { username: 'alice', uid: '7', groups: ['devs', 'system:authenticated'], extra: { scopes: ['a', 'b'] } };
const RBAC = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: reader, namespace: team-a }
rules:
- { apiGroups: [porch.kpt.dev], resources: [packagerevisions], verbs: [get, list] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: alice-reads, namespace: team-a }
subjects: [{ kind: User, name: alice, apiGroup: rbac.authorization.k8s.io }]
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader }
`;
const SSAR = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';
const SSR = '/apis/authentication.k8s.io/v1/selfsubjectreviews';

describe('SelfSubjectAccessReview and SelfSubjectReview', () => {
  let ctx: AppContext;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ ctx, cleanup } = await testContext()));
  afterEach(async () => cleanup());

  const gateway = (backends: ('store' | 'engine')[]) =>
    buildGateway(ctx, { authenticate: async () => ALICE, authorizer: new RbacAuthorizer([...bootstrapPolicy(), ...parseRbacYaml(RBAC)]), resources: servedResources(backends) });
  const ask = (attrs: Record<string, unknown>) => ({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: attrs });

  it('dev mode: whoami and can-i answered from the request identity and RBAC; both groups discovered', async () => {
    const app = gateway(['store', 'engine']);
    const who = await app.request(jsonRequest('POST', SSR, { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }));
    expect(who.status).toBe(201);
    expect(await who.json()).toMatchObject({ kind: 'SelfSubjectReview', status: { userInfo: { username: 'alice', uid: '7', groups: ['devs', 'system:authenticated'], extra: { scopes: ['a', 'b'] } } } });

    const yes = await (await app.request(jsonRequest('POST', SSAR, ask({ resourceAttributes: { namespace: 'team-a', verb: 'list', group: 'porch.kpt.dev', resource: 'packagerevisions' } })))).json();
    expect(yes.status.allowed).toBe(true);
    const no = await (await app.request(jsonRequest('POST', SSAR, ask({ resourceAttributes: { namespace: 'team-b', verb: 'list', group: 'porch.kpt.dev', resource: 'packagerevisions' } })))).json();
    expect(no.status).toMatchObject({ allowed: false });
    expect(no.spec.resourceAttributes.namespace).toBe('team-b');
    const path = await (await app.request(jsonRequest('POST', SSAR, ask({ nonResourceAttributes: { path: '/version', verb: 'get' } })))).json();
    expect(path.status.allowed).toBe(true);

    const neither = await app.request(jsonRequest('POST', SSAR, ask({})));
    expect(neither.status).toBe(422);
    expect((await neither.json()).message).toContain('exactly one of nonResourceAttributes or resourceAttributes');
    const both = await app.request(jsonRequest('POST', SSAR, ask({ resourceAttributes: { verb: 'get' }, nonResourceAttributes: { path: '/', verb: 'get' } })));
    expect(both.status).toBe(422);

    const rules = await app.request(jsonRequest('POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', { kind: 'SelfSubjectRulesReview', spec: { namespace: 'team-a' } }));
    expect(rules.status).toBe(201);
    const listed = (await rules.json()).status;
    expect(listed.incomplete).toBe(false);
    expect(listed.resourceRules).toContainEqual({ verbs: ['get', 'list'], apiGroups: ['porch.kpt.dev'], resources: ['packagerevisions'] });
    expect(listed.resourceRules).toContainEqual(expect.objectContaining({ resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] }));
    expect(listed.nonResourceRules).toContainEqual(expect.objectContaining({ nonResourceURLs: expect.arrayContaining(['/version']) }));
    const elsewhere = (await (await app.request(jsonRequest('POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', { spec: { namespace: 'team-b' } }))).json()).status;
    expect(elsewhere.resourceRules).not.toContainEqual(expect.objectContaining({ resources: ['packagerevisions'] }));

    const groups = await (await app.request(jsonRequest('GET', '/apis'))).json();
    expect(groups.groups.map((g: { name: string }) => g.name)).toEqual(expect.arrayContaining(['authorization.k8s.io', 'authentication.k8s.io']));
    const authz = await (await app.request(jsonRequest('GET', '/apis/authorization.k8s.io/v1'))).json();
    expect(authz.resources.map((r: { name: string }) => r.name)).toEqual(['selfsubjectaccessreviews', 'selfsubjectrulesreviews']);
    expect(authz.resources[0]).toMatchObject({ kind: 'SelfSubjectAccessReview', namespaced: false, verbs: ['create'] });
    const agg = await (
      await app.request(jsonRequest('GET', '/apis', undefined, '', { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' }))
    ).json();
    expect(agg.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(expect.arrayContaining(['authorization.k8s.io', 'authentication.k8s.io']));
  });

  it('cluster mode: neither served nor discovered', async () => {
    const app = gateway(['engine']);
    expect((await app.request(jsonRequest('POST', SSR, { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }))).status).toBe(404);
    expect((await app.request(jsonRequest('POST', SSAR, ask({ resourceAttributes: { verb: 'get' } })))).status).toBe(404);
    const groups = await (await app.request(jsonRequest('GET', '/apis'))).json();
    expect(groups.groups.map((g: { name: string }) => g.name)).toEqual(['porch.kpt.dev']);
    expect((await app.request(jsonRequest('GET', '/apis/authorization.k8s.io/v1'))).status).toBe(404);
  });
});
