import { RBAC_API_VERSION, type ClusterRole, type ClusterRoleBinding, type RbacObject } from './rbac-objects.ts';

// kube-apiserver ships bootstrap roles that let every client discover APIs and read health and version
// before any policy is written; without their equivalent here kubectl fails for everyone but admins,
// since it fetches /api, /apis and /openapi before doing anything.

function clusterRole(name: string, nonResourceURLs: string[]): ClusterRole {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: 'ClusterRole',
    metadata: { name, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
    rules: [{ verbs: ['get'], nonResourceURLs }],
  };
}

function bindToGroups(name: string, groups: string[]): ClusterRoleBinding {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
    subjects: groups.map((g) => ({ kind: 'Group', name: g, apiGroup: 'rbac.authorization.k8s.io' })),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
  };
}

/** system:basic-user: every authenticated user may ask who they are and what they may do. */
function basicUser(): ClusterRole {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: 'ClusterRole',
    metadata: { name: 'system:basic-user', labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
    rules: [
      { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
      { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] },
    ],
  };
}

/** The parts of kube-apiserver's bootstrap policy every user relies on: discovery, public info, basic user. */
export function bootstrapPolicy(): RbacObject[] {
  return [
    basicUser(),
    bindToGroups('system:basic-user', ['system:authenticated']),
    clusterRole('system:discovery', ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/']),
    bindToGroups('system:discovery', ['system:authenticated']),
    clusterRole('system:public-info-viewer', ['/healthz', '/livez', '/readyz', '/version', '/version/']),
    bindToGroups('system:public-info-viewer', ['system:authenticated', 'system:unauthenticated']),
  ];
}
