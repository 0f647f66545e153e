import { matchesLabels, type LabelRequirement } from '../api/selectors.ts';
import type { UserInfo } from './user.ts';
import type { RequestAttributes } from './attributes.ts';
import { ALL_RULES, forbiddenMessage, type Authorizer, type Decision, type RuleList } from './authorizer.ts';
import {
  loadRbacFile,
  toRbacObjects,
  type ClusterRole,
  type ClusterRoleBinding,
  type LabelSelector,
  type PolicyRule,
  type RbacObject,
  type Role,
  type RoleBinding,
  type RoleRef,
  type Subject,
} from './rbac-objects.ts';

// Kubernetes RBAC evaluated in process, rule for rule as kube-apiserver's RBAC authorizer does, so a
// policy tested here behaves the same when the server runs behind a real cluster.

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === '*' || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === '*' || g === group);
}

/** `combined` is resource or resource/subresource; `*` covers both, `*`/sub covers sub of any resource. */
export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  return (rule.resources ?? []).some(
    (r) => r === '*' || r === combined || (subresource !== '' && r.length === subresource.length + 2 && r.startsWith('*/') && r.endsWith(subresource)),
  );
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  return (rule.nonResourceURLs ?? []).some((u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.replace(/\*+$/, ''))));
}

export function ruleAllows(attrs: RequestAttributes, rule: PolicyRule): boolean {
  if (!verbMatches(rule, attrs.verb)) return false;
  if (!attrs.isResourceRequest) return nonResourceURLMatches(rule, attrs.path);
  const combined = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  return apiGroupMatches(rule, attrs.apiGroup) && resourceMatches(rule, combined, attrs.subresource) && resourceNameMatches(rule, attrs.name);
}

export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/** Whether a binding subject is this user; a ServiceAccount without namespace means the binding's own. */
function subjectMatches(user: UserInfo, s: Subject, bindingNamespace: string): boolean {
  switch (s.kind) {
    case 'User':
      return user.username === s.name;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount': {
      const ns = s.namespace ?? bindingNamespace;
      return ns !== '' && user.username === serviceAccountUsername(ns, s.name);
    }
  }
}

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} ${JSON.stringify(`${s.name}/${s.namespace ?? bindingNamespace}`)}`;
  return `${s.kind} ${JSON.stringify(s.name)}`;
}

/** A metav1.LabelSelector as the requirements a `labelSelector` query parses to, so both match by one rule. */
function requirementsOf(sel: LabelSelector): LabelRequirement[] {
  const out: LabelRequirement[] = Object.entries(sel.matchLabels ?? {}).map(([key, value]) => ({ key, op: 'eq', value }));
  for (const e of sel.matchExpressions ?? []) {
    if (e.operator === 'In' || e.operator === 'NotIn') out.push({ key: e.key, op: e.operator === 'In' ? 'in' : 'notin', values: e.values ?? [] });
    else out.push({ key: e.key, op: e.operator === 'Exists' ? 'exists' : 'notexists' });
  }
  return out;
}

export function labelSelectorMatches(sel: LabelSelector, labels: Record<string, string>): boolean {
  return matchesLabels(requirementsOf(sel), labels);
}

function sameRule(a: PolicyRule, b: PolicyRule): boolean {
  const key = (r: PolicyRule) =>
    JSON.stringify([r.verbs, r.apiGroups ?? [], r.resources ?? [], r.resourceNames ?? [], r.nonResourceURLs ?? []]);
  return key(a) === key(b);
}

/**
 * The rules each aggregated ClusterRole ends up with. Kubernetes' aggregation controller replaces such
 * a role's rules with the union of the matching roles' rules (by role name, without duplicates), and it
 * keeps going until nothing changes, so aggregated roles feeding other aggregated roles are followed.
 */
function aggregate(clusterRoles: Map<string, ClusterRole>): Map<string, PolicyRule[]> {
  const resolved = new Map<string, PolicyRule[]>();
  const resolving = new Set<string>();
  const rulesOf = (role: ClusterRole): PolicyRule[] => {
    const name = role.metadata.name;
    if (!role.aggregationRule) return role.rules;
    const done = resolved.get(name);
    if (done) return done;
    // A cycle of aggregated roles has no fixed point beyond what the roles already list.
    if (resolving.has(name)) return role.rules;
    resolving.add(name);
    const out: PolicyRule[] = [];
    const sorted = [...clusterRoles.values()].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
    for (const sel of role.aggregationRule.clusterRoleSelectors) {
      for (const other of sorted) {
        if (other.metadata.name === name || !labelSelectorMatches(sel, other.metadata.labels ?? {})) continue;
        for (const r of rulesOf(other)) if (!out.some((x) => sameRule(x, r))) out.push(r);
      }
    }
    resolving.delete(name);
    resolved.set(name, out);
    return out;
  };
  for (const role of clusterRoles.values()) if (role.aggregationRule) rulesOf(role);
  return resolved;
}

/** An immutable, indexed snapshot of a policy; reload swaps in a new one. */
class Policy {
  readonly roles = new Map<string, Role>();
  readonly clusterRoles = new Map<string, ClusterRole>();
  readonly clusterRoleBindings: ClusterRoleBinding[] = [];
  readonly roleBindings = new Map<string, RoleBinding[]>();
  readonly aggregated: Map<string, PolicyRule[]>;

  constructor(objects: RbacObject[]) {
    for (const o of objects) {
      switch (o.kind) {
        case 'Role':
          this.roles.set(`${o.metadata.namespace}/${o.metadata.name}`, o);
          break;
        case 'ClusterRole':
          this.clusterRoles.set(o.metadata.name, o);
          break;
        case 'ClusterRoleBinding':
          this.clusterRoleBindings.push(o);
          break;
        case 'RoleBinding': {
          const list = this.roleBindings.get(o.metadata.namespace) ?? [];
          list.push(o);
          this.roleBindings.set(o.metadata.namespace, list);
          break;
        }
      }
    }
    this.aggregated = aggregate(this.clusterRoles);
  }

  /** A missing role is an error the denial reports, like kube-apiserver's `RBAC: role... not found`. */
  rulesFor(ref: RoleRef, bindingNamespace: string): PolicyRule[] | string {
    if (ref.kind === 'Role') {
      const role = this.roles.get(`${bindingNamespace}/${ref.name}`);
      return role ? role.rules : `role.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`;
    }
    const role = this.clusterRoles.get(ref.name);
    if (!role) return `clusterrole.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`;
    return this.aggregated.get(ref.name) ?? role.rules;
  }
}

export interface RbacDecision extends Decision {
  /** The binding and subject that allowed, in kube-apiserver's words, e.g. `RoleBinding "x/ns" of ClusterRole "y" to User "alice"`. */
  source?: string;
}

export interface RbacOptions {
  /** Groups allowed everything without any binding; kube-apiserver always treats system:masters so. */
  superuserGroups?: string[];
}

/** Formats a list of errors as Go's error aggregate does, which kube-apiserver's messages embed. */
function aggregateErrors(errs: string[]): string {
  const unique = [...new Set(errs)];
  return unique.length === 1 ? unique[0] : `[${unique.join(', ')}]`;
}

export class RbacAuthorizer implements Authorizer {
  private policy: Policy;
  private readonly superuserGroups: string[];

  constructor(
    objects: RbacObject[] = [],
    opts: RbacOptions = {},
    private readonly path?: string,
  ) {
    this.policy = new Policy(objects);
    this.superuserGroups = opts.superuserGroups ?? ['system:masters'];
  }

  static async fromFile(path: string, opts: RbacOptions = {}): Promise<RbacAuthorizer> {
    return new RbacAuthorizer(await loadRbacFile(path), opts, path);
  }

  /** Swaps in a new policy; objects are checked first so a bad update leaves the old policy in force. */
  replace(objects: unknown[]): void {
    this.policy = new Policy(toRbacObjects(objects));
  }

  /** Re-reads the file the authorizer was loaded from; on a parse error the old policy stays. */
  async reload(): Promise<void> {
    if (!this.path) throw new Error('RBAC authorizer was not loaded from a file');
    this.policy = new Policy(await loadRbacFile(this.path));
  }

  async authorize(user: UserInfo, attrs: RequestAttributes): Promise<RbacDecision> {
    return this.decide(user, attrs);
  }

  decide(user: UserInfo, attrs: RequestAttributes): RbacDecision {
    const superGroup = this.superuserGroups.find((g) => user.groups.includes(g));
    if (superGroup) return { allowed: true, reason: `allowed: member of group "${superGroup}"`, source: `group ${superGroup}` };

    const policy = this.policy;
    const problems: string[] = [];
    const check = (rules: PolicyRule[] | string, describe: () => string): RbacDecision | undefined => {
      if (typeof rules === 'string') {
        problems.push(rules);
        return undefined;
      }
      if (!rules.some((r) => ruleAllows(attrs, r))) return undefined;
      const source = describe();
      return { allowed: true, reason: `RBAC: allowed by ${source}`, source };
    };

    for (const b of policy.clusterRoleBindings) {
      const subject = b.subjects.find((s) => subjectMatches(user, s, ''));
      if (!subject) continue;
      const hit = check(policy.rulesFor(b.roleRef, ''), () =>
        `ClusterRoleBinding ${JSON.stringify(b.metadata.name)} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${describeSubject(subject, '')}`,
      );
      if (hit) return hit;
    }
    // Role bindings only ever grant inside their own namespace, even when they point at a ClusterRole.
    if (attrs.namespace) {
      for (const b of policy.roleBindings.get(attrs.namespace) ?? []) {
        const ns = b.metadata.namespace;
        const subject = b.subjects.find((s) => subjectMatches(user, s, ns));
        if (!subject) continue;
        const hit = check(policy.rulesFor(b.roleRef, ns), () =>
          `RoleBinding ${JSON.stringify(`${b.metadata.name}/${ns}`)} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${describeSubject(subject, ns)}`,
        );
        if (hit) return hit;
      }
    }

    const sentence = forbiddenMessage(user, attrs);
    return { allowed: false, reason: problems.length ? `${sentence}: RBAC: ${aggregateErrors(problems)}` : sentence };
  }

  rules(user: UserInfo, namespace: string): RuleList {
    if (this.superuserGroups.some((g) => user.groups.includes(g))) return { rules: ALL_RULES, incomplete: false };
    return { rules: this.rulesFor(user, namespace), incomplete: false };
  }

  /** Every rule that applies to the user in a namespace ('' for cluster-wide only), for diagnostics. */
  rulesFor(user: UserInfo, namespace: string): PolicyRule[] {
    const policy = this.policy;
    const out: PolicyRule[] = [];
    const add = (rules: PolicyRule[] | string) => {
      if (typeof rules !== 'string') out.push(...rules);
    };
    for (const b of policy.clusterRoleBindings) if (b.subjects.some((s) => subjectMatches(user, s, ''))) add(policy.rulesFor(b.roleRef, ''));
    if (namespace)
      for (const b of policy.roleBindings.get(namespace) ?? [])
        if (b.subjects.some((s) => subjectMatches(user, s, namespace))) add(policy.rulesFor(b.roleRef, namespace));
    return out;
  }
}
