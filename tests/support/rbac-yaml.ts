export interface PolicyRuleFields {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

interface Placed {
  name: string;
  /** Absent for the cluster-wide kinds. */
  namespace?: string;
}

/**
 * A role holding `rules` and a binding of it to one user, as the RBAC YAML a policy file holds: most
 * authorizer cases vary only where each of the two lives and what the role allows.
 */
export function roleBindingYaml(opts: {
  role: Placed & { kind: 'Role' | 'ClusterRole'; rules: PolicyRuleFields[] };
  binding: Placed & { kind: 'RoleBinding' | 'ClusterRoleBinding' };
  user: string;
}): string {
  const { role, binding } = opts;
  const metadata = (p: Placed) => JSON.stringify(p.namespace ? { name: p.name, namespace: p.namespace } : { name: p.name });
  return `apiVersion: rbac.authorization.k8s.io/v1
kind: ${role.kind}
metadata: ${metadata(role)}
rules: ${JSON.stringify(role.rules)}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ${binding.kind}
metadata: ${metadata(binding)}
subjects: [{ kind: User, name: ${JSON.stringify(opts.user)} }]
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ${role.kind}, name: ${JSON.stringify(role.name)} }
`;
}
