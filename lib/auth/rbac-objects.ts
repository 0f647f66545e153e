import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';

// The rbac.authorization.k8s.io/v1 objects the in-process authorizer understands, and reading them
// from the YAML people already keep for a real cluster.

export const RBAC_API_VERSION = 'rbac.authorization.k8s.io/v1';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: 'User' | 'Group' | 'ServiceAccount';
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: 'Role' | 'ClusterRole';
  name: string;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface RbacMetadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
}

export interface Role {
  apiVersion: typeof RBAC_API_VERSION;
  kind: 'Role';
  metadata: RbacMetadata & { namespace: string };
  rules: PolicyRule[];
}

export interface ClusterRole {
  apiVersion: typeof RBAC_API_VERSION;
  kind: 'ClusterRole';
  metadata: RbacMetadata;
  rules: PolicyRule[];
  aggregationRule?: { clusterRoleSelectors: LabelSelector[] };
}

export interface RoleBinding {
  apiVersion: typeof RBAC_API_VERSION;
  kind: 'RoleBinding';
  metadata: RbacMetadata & { namespace: string };
  subjects: Subject[];
  roleRef: RoleRef;
}

export interface ClusterRoleBinding {
  apiVersion: typeof RBAC_API_VERSION;
  kind: 'ClusterRoleBinding';
  metadata: RbacMetadata;
  subjects: Subject[];
  roleRef: RoleRef;
}

export type RbacObject = Role | ClusterRole | RoleBinding | ClusterRoleBinding;

const RBAC_KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class RbacParseError extends Error {}

function fail(where: string, msg: string): never {
  throw new RbacParseError(`${where}: ${msg}`);
}

function stringList(v: unknown, where: string, field: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(where, `${field} must be a list of strings`);
  return v as string[];
}

function stringMap(v: unknown, where: string, field: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v) || Object.values(v).some((x) => typeof x !== 'string')) fail(where, `${field} must map strings to strings`);
  return v as Record<string, string>;
}

function parseMetadata(v: unknown, where: string, namespaced: boolean): RbacMetadata {
  if (!isObject(v) || typeof v.name !== 'string' || v.name === '') fail(where, 'metadata.name is required');
  const meta: RbacMetadata = { name: v.name };
  if (namespaced) {
    // A namespace left to the caller's kubectl context cannot be guessed here, and guessing wrong would
    // grant in the wrong place.
    if (typeof v.namespace !== 'string' || v.namespace === '') fail(where, 'metadata.namespace is required');
    meta.namespace = v.namespace;
  }
  const labels = stringMap(v.labels, where, 'metadata.labels');
  if (labels) meta.labels = labels;
  return meta;
}

/** An optional list field (absent or null is empty), each element parsed with its place for error messages. */
function parseList<T>(v: unknown, where: string, field: string, item: (element: unknown, at: string) => T): T[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(where, `${field} must be a list`);
  return v.map((element, i) => item(element, `${where} ${field}[${i}]`));
}

function parseRules(v: unknown, where: string): PolicyRule[] {
  return parseList(v, where, 'rules', (r, at) => {
    if (!isObject(r)) fail(at, 'must be an object');
    const verbs = stringList(r.verbs, at, 'verbs');
    if (!verbs || verbs.length === 0) fail(at, 'verbs must not be empty');
    const rule: PolicyRule = { verbs };
    for (const field of ['apiGroups', 'resources', 'resourceNames', 'nonResourceURLs'] as const) {
      const list = stringList(r[field], at, field);
      if (list) rule[field] = list;
    }
    return rule;
  });
}

function parseSelector(v: unknown, where: string): LabelSelector {
  if (!isObject(v)) fail(where, 'must be a label selector');
  const sel: LabelSelector = {};
  const matchLabels = stringMap(v.matchLabels, where, 'matchLabels');
  if (matchLabels) sel.matchLabels = matchLabels;
  if (v.matchExpressions !== undefined && v.matchExpressions !== null) {
    sel.matchExpressions = parseList(v.matchExpressions, where, 'matchExpressions', (e, at) => {
      if (!isObject(e) || typeof e.key !== 'string') fail(at, 'key is required');
      if (e.operator !== 'In' && e.operator !== 'NotIn' && e.operator !== 'Exists' && e.operator !== 'DoesNotExist')
        fail(at, `operator must be In, NotIn, Exists or DoesNotExist, not ${JSON.stringify(e.operator)}`);
      const values = stringList(e.values, at, 'values') ?? [];
      if ((e.operator === 'In' || e.operator === 'NotIn') && values.length === 0) fail(at, `values must not be empty for ${e.operator}`);
      if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && values.length > 0) fail(at, `values must be empty for ${e.operator}`);
      return { key: e.key, operator: e.operator, values };
    });
  }
  return sel;
}

function parseSubjects(v: unknown, where: string): Subject[] {
  return parseList(v, where, 'subjects', (s, at) => {
    if (!isObject(s) || typeof s.name !== 'string' || s.name === '') fail(at, 'name is required');
    if (s.kind !== 'User' && s.kind !== 'Group' && s.kind !== 'ServiceAccount')
      fail(at, `kind must be User, Group or ServiceAccount, not ${JSON.stringify(s.kind)}`);
    const subject: Subject = { kind: s.kind, name: s.name };
    if (typeof s.namespace === 'string' && s.namespace !== '') subject.namespace = s.namespace;
    if (typeof s.apiGroup === 'string') subject.apiGroup = s.apiGroup;
    return subject;
  });
}

function parseRoleRef(v: unknown, where: string, clusterBinding: boolean): RoleRef {
  if (!isObject(v) || typeof v.name !== 'string' || v.name === '') fail(where, 'roleRef.name is required');
  if (v.kind !== 'ClusterRole' && (clusterBinding || v.kind !== 'Role'))
    fail(where, `roleRef.kind must be ${clusterBinding ? 'ClusterRole' : 'Role or ClusterRole'}, not ${JSON.stringify(v.kind)}`);
  return { apiGroup: 'rbac.authorization.k8s.io', kind: v.kind, name: v.name };
}

/** One decoded object; nothing for objects that are not RBAC (a file may carry Namespaces too). */
function parseObject(v: unknown, where: string): RbacObject[] {
  if (!isObject(v)) return [];
  if (Array.isArray(v.items) && typeof v.kind === 'string' && v.kind.endsWith('List'))
    return v.items.flatMap((item, i) => parseObject(item, `${where} items[${i}]`));
  if (typeof v.kind !== 'string' || !RBAC_KINDS.has(v.kind)) return [];
  if (v.apiVersion !== RBAC_API_VERSION) fail(where, `${v.kind} must be apiVersion ${RBAC_API_VERSION}, not ${JSON.stringify(v.apiVersion)}`);
  const label = `${where} ${v.kind}`;
  switch (v.kind) {
    case 'Role': {
      const metadata = parseMetadata(v.metadata, label, true) as Role['metadata'];
      return [{ apiVersion: RBAC_API_VERSION, kind: 'Role', metadata, rules: parseRules(v.rules, `${label} ${metadata.name}`) }];
    }
    case 'ClusterRole': {
      const metadata = parseMetadata(v.metadata, label, false);
      const at = `${label} ${metadata.name}`;
      const role: ClusterRole = { apiVersion: RBAC_API_VERSION, kind: 'ClusterRole', metadata, rules: parseRules(v.rules, at) };
      if (isObject(v.aggregationRule)) {
        const sels = v.aggregationRule.clusterRoleSelectors ?? [];
        if (!Array.isArray(sels)) fail(at, 'aggregationRule.clusterRoleSelectors must be a list');
        role.aggregationRule = { clusterRoleSelectors: sels.map((s, i) => parseSelector(s, `${at} clusterRoleSelectors[${i}]`)) };
      }
      return [role];
    }
    case 'RoleBinding': {
      const metadata = parseMetadata(v.metadata, label, true) as RoleBinding['metadata'];
      const at = `${label} ${metadata.name}`;
      return [{ apiVersion: RBAC_API_VERSION, kind: 'RoleBinding', metadata, subjects: parseSubjects(v.subjects, at), roleRef: parseRoleRef(v.roleRef, at, false) }];
    }
    default: {
      const metadata = parseMetadata(v.metadata, label, false);
      const at = `${label} ${metadata.name}`;
      return [{ apiVersion: RBAC_API_VERSION, kind: 'ClusterRoleBinding', metadata, subjects: parseSubjects(v.subjects, at), roleRef: parseRoleRef(v.roleRef, at, true) }];
    }
  }
}

/** Checks already-decoded objects (from YAML, JSON or code) and keeps the RBAC ones. */
export function toRbacObjects(values: unknown[], source = 'rbac'): RbacObject[] {
  return values.flatMap((v, i) => parseObject(v, `${source}: object ${i + 1}`));
}

/** Multi-document YAML (or JSON) text, `---` separated as kubectl accepts it. */
export function parseRbacYaml(text: string, source = 'rbac'): RbacObject[] {
  const docs = parseAllDocuments(text);
  const values: unknown[] = [];
  for (const [i, doc] of docs.entries()) {
    if (doc.errors.length > 0) throw new RbacParseError(`${source}: document ${i + 1}: ${doc.errors[0].message}`);
    values.push(doc.toJS());
  }
  return values.flatMap((v, i) => parseObject(v, `${source}: document ${i + 1}`));
}

export async function loadRbacFile(path: string): Promise<RbacObject[]> {
  return parseRbacYaml(await readFile(path, 'utf8'), path);
}
