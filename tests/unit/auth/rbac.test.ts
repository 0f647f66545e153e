import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestAttributes } from '../../../lib/auth/attributes.ts';
import { forbiddenError } from '../../../lib/auth/authorizer.ts';
import { RbacAuthorizer } from '../../../lib/auth/rbac.ts';
import { bootstrapPolicy } from '../../../lib/auth/default-policy.ts';
import { parseRbacYaml } from '../../../lib/auth/rbac-objects.ts';
import type { UserInfo } from '../../../lib/auth/user.ts';
import { rbacFixture } from '../../support/rbac-fixtures.ts';
import { roleBindingYaml } from '../../support/rbac-yaml.ts';

const P = '/apis/porch.kpt.dev/v1alpha1';
const user = (username: string, ...groups: string[]): UserInfo => ({ username, groups: [...groups, 'system:authenticated'] });
const alice = user('alice');

let dir: string;
let rbac: RbacAuthorizer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rbac-test-'));
  rbac = await RbacAuthorizer.fromFile(rbacFixture('authorizer.yaml'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function can(u: UserInfo, method: string, path: string): Promise<boolean> {
  return (await rbac.authorize(u, requestAttributes(method, path))).allowed;
}

describe('RBAC authorizer', () => {
  it('a RoleBinding to a ClusterRole grants only in the binding namespace', async () => {
    expect(await can(alice, 'GET', `${P}/namespaces/team-a/packagerevisions`)).toBe(true);
    expect(await can(alice, 'POST', `${P}/namespaces/team-a/packagerevisions`)).toBe(true);
    expect(await can(alice, 'GET', `${P}/namespaces/team-b/packagerevisions`)).toBe(false);
    expect(await can(alice, 'GET', `${P}/packagerevisions`)).toBe(false);
  });

  it('names the binding that allowed', async () => {
    const d = await rbac.authorize(alice, requestAttributes('PUT', `${P}/namespaces/team-a/packagerevisions/r1`));
    expect(d).toMatchObject({ allowed: true, reason: 'RBAC: allowed by RoleBinding "authors/team-a" of ClusterRole "porch-author" to User "alice"' });
  });

  it('an author with packagerevisions but not packagerevisions/approval cannot approve', async () => {
    const attrs = requestAttributes('PUT', `${P}/namespaces/team-a/packagerevisions/r1/approval`);
    const d = await rbac.authorize(alice, attrs);
    expect(d.allowed).toBe(false);
    expect(d.reason).toBe('User "alice" cannot update resource "packagerevisions/approval" in API group "porch.kpt.dev" in the namespace "team-a"');
    expect(forbiddenError(alice, attrs, d.reason).message).toBe(
      'packagerevisions.porch.kpt.dev "r1" is forbidden: User "alice" cannot update resource "packagerevisions/approval" in API group "porch.kpt.dev" in the namespace "team-a"',
    );
  });

  it('the aggregated approver role carries both aggregated roles', async () => {
    const lead = user('dave', 'team-a-leads');
    expect(await can(lead, 'PUT', `${P}/namespaces/team-a/packagerevisions/r1/approval`)).toBe(true);
    expect(await can(lead, 'PATCH', `${P}/namespaces/team-a/packagerevisions/r1/approval`)).toBe(true);
    expect(await can(lead, 'GET', `${P}/namespaces/team-a/packages`)).toBe(true);
    expect(await can(lead, 'DELETE', `${P}/namespaces/team-a/packagerevisions`)).toBe(false);
    expect(await can(lead, 'PUT', `${P}/namespaces/team-b/packagerevisions/r1/approval`)).toBe(false);
  });

  it('resourceNames restrict to the named objects, and lists only when narrowed to one', async () => {
    const bob = user('bob');
    expect(await can(bob, 'GET', `${P}/namespaces/team-a/packagerevisions/r1`)).toBe(true);
    expect(await can(bob, 'GET', `${P}/namespaces/team-a/packagerevisions/r2`)).toBe(false);
    expect(await can(bob, 'GET', `${P}/namespaces/team-a/packagerevisions`)).toBe(false);
    expect(await can(bob, 'GET', `${P}/namespaces/team-a/packagerevisions?watch=true&fieldSelector=metadata.name%3Dr1`)).toBe(true);
    expect(await can(bob, 'GET', `${P}/namespaces/team-a/packagerevisions/r1/approval`)).toBe(false);
  });

  it('ServiceAccount subjects: binding namespace by default, explicit namespace otherwise', async () => {
    expect(await can(user('system:serviceaccount:team-a:ci'), 'GET', `${P}/namespaces/team-a/packages`)).toBe(true);
    expect(await can(user('system:serviceaccount:team-b:ci'), 'GET', `${P}/namespaces/team-a/packages`)).toBe(false);
    const bot = user('system:serviceaccount:porch-system:approver-bot');
    expect(await can(bot, 'PUT', `${P}/namespaces/anywhere/packagerevisions/x/approval`)).toBe(true);
    expect(await can(bot, 'PUT', '/api/v1/namespaces/anywhere/pods/x/approval')).toBe(true);
    expect(await can(bot, 'PUT', `${P}/namespaces/anywhere/packagerevisions/x`)).toBe(false);
    expect(await can(bot, 'PUT', `${P}/namespaces/anywhere/packagerevisions/x/status`)).toBe(false);
  });

  it('wildcards grant every verb, group and resource, including subresources', async () => {
    const admin = user('erin', 'porch-admins');
    expect(await can(admin, 'DELETE', `${P}/packagerevisions`)).toBe(true);
    expect(await can(admin, 'PUT', `${P}/namespaces/x/packagerevisions/r/approval`)).toBe(true);
    expect(await can(admin, 'GET', '/api/v1/namespaces')).toBe(true);
    expect(await can(admin, 'POST', '/anything/at/all')).toBe(true);
    const d = await rbac.authorize(admin, requestAttributes('GET', '/api/v1/pods'));
    expect(d.reason).toBe('RBAC: allowed by ClusterRoleBinding "admins" of ClusterRole "everything" to Group "porch-admins"');
  });

  it('system:masters is allowed everything without any binding', async () => {
    const root = user('root', 'system:masters');
    expect(await can(root, 'DELETE', `${P}/namespaces/x/packagerevisions`)).toBe(true);
    expect(await can(root, 'GET', '/metrics')).toBe(true);
  });

  it('nonResourceURLs match exact paths and trailing-* prefixes, never via role bindings', async () => {
    const anon: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };
    expect(await can(anon, 'GET', '/healthz')).toBe(true);
    expect(await can(anon, 'GET', '/openapi/v3/apis/porch.kpt.dev/v1alpha1')).toBe(true);
    expect(await can(anon, 'GET', '/openapi')).toBe(false);
    expect(await can(anon, 'POST', '/healthz')).toBe(false);
    expect(await can(anon, 'GET', '/apis')).toBe(false);
    expect(await can(alice, 'GET', '/version')).toBe(true);
    const d = await rbac.authorize(anon, requestAttributes('GET', '/apis'));
    expect(forbiddenError(anon, requestAttributes('GET', '/apis'), d.reason).message).toBe('forbidden: User "system:anonymous" cannot get path "/apis"');
  });

  it('cluster-scope denials read as kube-apiserver words them', async () => {
    const attrs = requestAttributes('GET', `${P}/packagerevisions`);
    const d = await rbac.authorize(alice, attrs);
    const err = forbiddenError(alice, attrs, d.reason);
    expect(err.code).toBe(403);
    expect(err.toStatus()).toMatchObject({
      reason: 'Forbidden',
      message: 'packagerevisions.porch.kpt.dev is forbidden: User "alice" cannot list resource "packagerevisions" in API group "porch.kpt.dev" at the cluster scope',
      details: { group: 'porch.kpt.dev', kind: 'packagerevisions' },
    });
    const core = requestAttributes('GET', '/api/v1/namespaces/team-a/configmaps/c');
    expect(forbiddenError(alice, core, '').message).toBe(
      'configmaps "c" is forbidden: User "alice" cannot get resource "configmaps" in API group "" in the namespace "team-a"',
    );
  });

  it('a binding to a missing role denies and says so', async () => {
    const carol = user('carol');
    const attrs = requestAttributes('GET', `${P}/namespaces/team-b/packages`);
    const d = await rbac.authorize(carol, attrs);
    expect(d.allowed).toBe(false);
    expect(d.reason).toBe(
      'User "carol" cannot list resource "packages" in API group "porch.kpt.dev" in the namespace "team-b": RBAC: clusterrole.rbac.authorization.k8s.io "does-not-exist" not found',
    );
    expect(forbiddenError(carol, attrs, d.reason).message).toBe(`packages.porch.kpt.dev is forbidden: ${d.reason}`);
  });

  it('a Role is only visible to bindings in its own namespace', async () => {
    const objs = parseRbacYaml(
      roleBindingYaml({
        role: { kind: 'Role', name: 'r', namespace: 'ns1', rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] },
        binding: { kind: 'RoleBinding', name: 'b', namespace: 'ns2' },
        user: 'u',
      }),
    );
    const a = new RbacAuthorizer(objs);
    const d = await a.authorize(user('u'), requestAttributes('GET', '/api/v1/namespaces/ns2/configmaps/c'));
    expect(d.allowed).toBe(false);
    expect(d.reason).toContain('RBAC: role.rbac.authorization.k8s.io "r" not found');
  });

  it('a RoleBinding in a namespace grants get on that Namespace object', async () => {
    const a = new RbacAuthorizer(
      parseRbacYaml(
        roleBindingYaml({
          role: { kind: 'ClusterRole', name: 'ns-viewer', rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get'] }] },
          binding: { kind: 'RoleBinding', name: 'b', namespace: 'team-a' },
          user: 'u',
        }),
      ),
    );
    expect((await a.authorize(user('u'), requestAttributes('GET', '/api/v1/namespaces/team-a'))).allowed).toBe(true);
    expect((await a.authorize(user('u'), requestAttributes('GET', '/api/v1/namespaces/team-b'))).allowed).toBe(false);
    expect((await a.authorize(user('u'), requestAttributes('GET', '/api/v1/namespaces'))).allowed).toBe(false);
  });

  it('aggregation follows matchExpressions and aggregated roles feeding others', async () => {
    const a = new RbacAuthorizer(
      parseRbacYaml(`
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: view-cm, labels: { tier: view } }
rules: [{ apiGroups: [""], resources: [configmaps], verbs: [get] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: view, labels: { tier: edit-input } }
aggregationRule:
  clusterRoleSelectors: [{ matchExpressions: [{ key: tier, operator: In, values: [view] }] }]
rules: [{ apiGroups: [""], resources: [secrets], verbs: [get] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: edit }
aggregationRule:
  clusterRoleSelectors: [{ matchLabels: { tier: edit-input } }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: b }
subjects: [{ kind: User, name: u }]
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit }
`),
    );
    expect((await a.authorize(user('u'), requestAttributes('GET', '/api/v1/namespaces/x/configmaps/c'))).allowed).toBe(true);
    // The aggregated role's own listed rules are replaced by the aggregation, as the controller does.
    expect((await a.authorize(user('u'), requestAttributes('GET', '/api/v1/namespaces/x/secrets/s'))).allowed).toBe(false);
  });

  it('replace swaps the policy; a bad update keeps the old one', async () => {
    const a = new RbacAuthorizer([]);
    const attrs = requestAttributes('GET', '/api/v1/pods');
    expect((await a.authorize(user('u'), attrs)).allowed).toBe(false);
    a.replace([
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'pods' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'pods' }, subjects: [{ kind: 'User', name: 'u' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'pods' } },
    ]);
    expect((await a.authorize(user('u'), attrs)).allowed).toBe(true);
    expect(() => a.replace([{ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'no-namespace' } }])).toThrow(/metadata.namespace is required/);
    expect((await a.authorize(user('u'), attrs)).allowed).toBe(true);
  });

  it('reload re-reads the file', async () => {
    const path = join(dir, 'reload.yaml');
    await writeFile(path, '');
    const a = await RbacAuthorizer.fromFile(path);
    expect(await a.authorize(alice, requestAttributes('GET', '/api/v1/pods'))).toMatchObject({ allowed: false });
    await writeFile(
      path,
      `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: b }
subjects: [{ kind: User, name: alice }]
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: everything }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleList
items:
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata: { name: everything }
  rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }]
`,
    );
    await a.reload();
    expect(await a.authorize(alice, requestAttributes('GET', '/api/v1/pods'))).toMatchObject({ allowed: true });
  });

  it('rejects malformed objects with a pointer to them', () => {
    expect(() => parseRbacYaml('apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: x}\nroleRef: {kind: Role, name: r}\n', 'f.yaml')).toThrow(
      /f\.yaml: document 1 ClusterRoleBinding x: roleRef.kind must be ClusterRole/,
    );
    expect(() => parseRbacYaml('apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: x}\nrules: [{resources: [pods]}]\n')).toThrow(/verbs must not be empty/);
    expect(() => parseRbacYaml('apiVersion: rbac.authorization.k8s.io/v1beta1\nkind: Role\n')).toThrow(/must be apiVersion rbac.authorization.k8s.io\/v1/);
    expect(() => parseRbacYaml('a: [')).toThrow();
  });

  it('names the list, or the element of it, that is malformed', () => {
    const doc = (kind: string, body: string) => `apiVersion: rbac.authorization.k8s.io/v1\nkind: ${kind}\nmetadata: {name: r, namespace: a}\n${body}`;
    const err = (text: string) => () => parseRbacYaml(text, 'f.yaml');
    expect(err(doc('Role', 'rules: 3\n'))).toThrow(/^f\.yaml: document 1 Role r: rules must be a list$/);
    expect(err(doc('Role', 'rules: [{verbs: [get]}, 5]\n'))).toThrow(/^f\.yaml: document 1 Role r rules\[1\]: must be an object$/);
    expect(err(doc('RoleBinding', 'subjects: x\nroleRef: {kind: Role, name: r}\n'))).toThrow(/^f\.yaml: document 1 RoleBinding r: subjects must be a list$/);
    expect(err(doc('RoleBinding', 'subjects: [{kind: User, name: a}, {kind: X, name: b}]\nroleRef: {kind: Role, name: r}\n'))).toThrow(
      /^f\.yaml: document 1 RoleBinding r subjects\[1\]: kind must be User, Group or ServiceAccount, not "X"$/,
    );
    expect(err(doc('ClusterRole', 'aggregationRule: {clusterRoleSelectors: [{matchExpressions: 4}]}\n'))).toThrow(
      /^f\.yaml: document 1 ClusterRole r clusterRoleSelectors\[0\]: matchExpressions must be a list$/,
    );
    expect(err(doc('ClusterRole', 'aggregationRule: {clusterRoleSelectors: [{matchExpressions: [{key: a, operator: Exists}, {key: b, operator: Foo}]}]}\n'))).toThrow(
      /^f\.yaml: document 1 ClusterRole r clusterRoleSelectors\[0\] matchExpressions\[1\]: operator must be In, NotIn, Exists or DoesNotExist, not "Foo"$/,
    );
  });
});

describe('bootstrap policy', () => {
  it('lets everyone read health and version, and authenticated users discover APIs', async () => {
    const a = new RbacAuthorizer(bootstrapPolicy());
    const anon: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };
    const dev = user('dev');
    const allowed = async (u: UserInfo, path: string) => (await a.authorize(u, requestAttributes('GET', path))).allowed;
    expect(await allowed(anon, '/version')).toBe(true);
    expect(await allowed(anon, '/healthz')).toBe(true);
    expect(await allowed(anon, '/apis')).toBe(false);
    expect(await allowed(dev, '/apis')).toBe(true);
    expect(await allowed(dev, '/apis/porch.kpt.dev/v1alpha1')).toBe(true);
    expect(await allowed(dev, '/openapi/v3/apis/porch.kpt.dev/v1alpha1')).toBe(true);
    expect(await allowed(dev, `${P}/namespaces/x/packagerevisions`)).toBe(false);
  });
});
