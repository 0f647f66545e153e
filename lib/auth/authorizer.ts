import type { UserInfo } from './user.ts';
import { errors, StatusError, type StatusDetails, errMessage } from '../errors.ts';
import type { RequestAttributes } from './attributes.ts';
import type { PolicyRule } from './rbac-objects.ts';

/**
 * An authorizer's answer. Not allowed and not `denied` is kube-apiserver's "no opinion": the next
 * authorizer in a union may still allow. `reason` is for the 403 message and logs.
 */
export interface Decision {
  allowed: boolean;
  reason: string;
  denied?: boolean;
}

/** What a user may do in a namespace, as SelfSubjectRulesReview reports it. */
export interface RuleList {
  rules: PolicyRule[];
  /** Some authorizer could not say (its rules may allow more than listed). */
  incomplete: boolean;
}

export interface Authorizer {
  authorize(user: UserInfo, attrs: RequestAttributes): Promise<Decision>;
  /** The rules behind the decisions; an authorizer without it makes a rule list incomplete. */
  rules?(user: UserInfo, namespace: string): RuleList;
}

/** Everything, on every resource and path: a superuser's (or an unauthorized server's) rules. */
export const ALL_RULES: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

/** First authorizer to allow or explicitly deny decides, as kube-apiserver chains its authorizers. */
export function unionAuthorizer(...authorizers: Authorizer[]): Authorizer {
  return {
    async authorize(user, attrs) {
      const reasons: string[] = [];
      for (const a of authorizers) {
        const d = await a.authorize(user, attrs);
        if (d.allowed || d.denied) return d;
        if (d.reason) reasons.push(d.reason);
      }
      return { allowed: false, reason: reasons.join('\n') };
    },
    rules(user, namespace) {
      const out: RuleList = { rules: [], incomplete: false };
      for (const a of authorizers) {
        const r = a.rules?.(user, namespace);
        if (!r) out.incomplete = true;
        else {
          out.rules.push(...r.rules);
          out.incomplete ||= r.incomplete;
        }
      }
      return out;
    },
  };
}

/** Members of these groups may do anything; kube-apiserver hard-wires system:masters the same way. */
export function privilegedGroupsAuthorizer(groups: string[] = ['system:masters']): Authorizer {
  return {
    async authorize(user) {
      const g = groups.find((x) => user.groups.includes(x));
      return g ? { allowed: true, reason: `allowed: member of group "${g}"` } : { allowed: false, reason: '' };
    },
    rules: (user) => ({ rules: groups.some((x) => user.groups.includes(x)) ? ALL_RULES : [], incomplete: false }),
  };
}

/**
 * Non-resource paths everyone may reach (health probes), with a trailing `*` matching a prefix, like
 * an aggregated API server's --authorization-always-allow-paths.
 */
export function alwaysAllowPathsAuthorizer(paths: string[]): Authorizer {
  const exact = new Set(paths.filter((p) => !p.endsWith('*')));
  const prefixes = paths.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  return {
    async authorize(_user, attrs) {
      if (attrs.isResourceRequest) return { allowed: false, reason: '' };
      const ok = exact.has(attrs.path) || prefixes.some((p) => attrs.path.startsWith(p));
      return ok ? { allowed: true, reason: `allowed: path "${attrs.path}" is always allowed` } : { allowed: false, reason: '' };
    },
    rules: () => ({ rules: [{ verbs: ['*'], nonResourceURLs: paths }], incomplete: false }),
  };
}

// kube-apiserver escapes these because the message may be rendered by a browser.
function sanitize(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The sentence kube-apiserver puts in a 403, e.g. `User "alice" cannot list resource "pods" in API group "" at the cluster scope`. */
export function forbiddenMessage(user: UserInfo, attrs: RequestAttributes): string {
  const who = JSON.stringify(user.username);
  if (!attrs.isResourceRequest) return `User ${who} cannot ${attrs.verb} path ${JSON.stringify(attrs.path)}`;
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const base = `User ${who} cannot ${attrs.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(attrs.apiGroup)}`;
  return attrs.namespace ? `${base} in the namespace ${JSON.stringify(attrs.namespace)}` : `${base} at the cluster scope`;
}

/**
 * The 403 Status kube-apiserver sends. A reason that already begins with the sentence (as the RBAC
 * authorizer's do, so its decisions read well in logs) is used whole; any other is appended after ": ".
 */
export function forbiddenError(user: UserInfo, attrs: RequestAttributes, reason = ''): StatusError {
  const base = forbiddenMessage(user, attrs);
  const why = sanitize(reason.startsWith(base) ? reason : reason ? `${base}: ${reason}` : base);
  if (!attrs.isResourceRequest || !attrs.resource) return new StatusError(403, 'Forbidden', `forbidden: ${why}`, {});
  const qualified = attrs.apiGroup ? `${attrs.resource}.${attrs.apiGroup}` : attrs.resource;
  const details: StatusDetails = {};
  if (attrs.name) details.name = attrs.name;
  if (attrs.apiGroup) details.group = attrs.apiGroup;
  details.kind = attrs.resource;
  const named = attrs.name ? ` ${JSON.stringify(attrs.name)}` : '';
  return new StatusError(403, 'Forbidden', `${qualified}${named} is forbidden: ${why}`, details);
}

/** Throws the 403 unless allowed; an authorizer that fails outright becomes a 500, as in kube-apiserver. */
export async function authorizeOrThrow(authorizer: Authorizer, user: UserInfo, attrs: RequestAttributes): Promise<Decision> {
  let decision: Decision;
  try {
    decision = await authorizer.authorize(user, attrs);
  } catch (err) {
    if (err instanceof StatusError) throw err;
    throw errors.internal(errMessage(err));
  }
  if (!decision.allowed) throw forbiddenError(user, attrs, decision.reason);
  return decision;
}
