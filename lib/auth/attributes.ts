import { errors } from '../errors.ts';

/**
 * What an authorizer is asked about, in the shape of kube-apiserver's RequestInfo, so RBAC rules and
 * SubjectAccessReviews written for a real cluster mean the same thing here.
 */
export interface RequestAttributes {
  isResourceRequest: boolean;
  /** The decoded URL path, as non-resource rules match it. */
  path: string;
  /** get/list/watch/create/update/patch/delete/deletecollection, or the lower-case HTTP method for non-resource requests. */
  verb: string;
  apiPrefix: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** The path segments from the resource on, uninterpreted beyond resource/name/subresource. */
  parts: string[];
}

const API_PREFIXES = new Set(['api', 'apis']);
const GROUPLESS_PREFIXES = new Set(['api']);
const SPECIAL_VERBS = new Set(['proxy', 'watch']);
const SPECIAL_VERBS_NO_SUBRESOURCES = new Set(['proxy']);
// Without this list `/api/v1/namespaces/x/status` would read as a resource called "status" in namespace x.
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

const METHOD_VERBS: Record<string, string> = {
  POST: 'create',
  GET: 'get',
  HEAD: 'get',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

function splitPath(path: string): string[] {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? [] : trimmed.split('/');
}

function decodePath(pathname: string): string {
  // kube-apiserver sees Go's already-decoded URL.Path; a malformed escape would have been refused earlier.
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

/** Query booleans as Kubernetes decodes them: present and not "0"/"false" means true, even when empty. */
function queryBool(values: string[]): boolean {
  if (values.length === 0) return false;
  const v = values[0];
  return !(v === '0' || v.toLowerCase() === 'false');
}

function unescapeFieldValue(raw: string): string | undefined {
  let out = '';
  let escaped = false;
  for (const ch of raw) {
    if (escaped) {
      if (ch !== '\\' && ch !== ',' && ch !== '=') return undefined;
      out += ch;
      escaped = false;
    } else if (ch === '\\') escaped = true;
    else if (ch === ',' || ch === '=') return undefined;
    else out += ch;
  }
  return escaped ? undefined : out;
}

function splitFieldTerms(selector: string): string[] {
  const terms: string[] = [];
  let cur = '';
  let escaped = false;
  for (const ch of selector) {
    if (escaped) {
      cur += ch;
      escaped = false;
    } else if (ch === '\\') {
      cur += ch;
      escaped = true;
    } else if (ch === ',') {
      terms.push(cur);
      cur = '';
    } else cur += ch;
  }
  terms.push(cur);
  return terms;
}

/**
 * The name a list/watch is narrowed to by `fieldSelector=metadata.name=<x>`, which RBAC resourceNames
 * rules are checked against (this is how `kubectl get x/name -w` passes a resourceNames rule).
 * undefined when the selector does not pin the name or does not parse.
 */
function nameFromFieldSelector(selector: string): string | undefined {
  let found: string | undefined;
  for (const term of splitFieldTerms(selector)) {
    if (term === '') continue;
    const m = /^(.*?)(!=|==|=)(.*)$/s.exec(term);
    if (!m) return undefined;
    const value = unescapeFieldValue(m[3]);
    if (value === undefined) return undefined;
    if (m[2] !== '!=' && m[1] === 'metadata.name' && found === undefined) found = value;
  }
  return found;
}

function isValidPathSegmentName(name: string): boolean {
  return name !== '.' && name !== '..' && !name.includes('/') && !name.includes('%');
}

/** A list query kube-apiserver could not decode does not narrow the request to a name. */
function listQueryDecodes(query: URLSearchParams): boolean {
  for (const key of ['limit', 'timeoutSeconds']) {
    const v = query.getAll(key)[0];
    if (v !== undefined && !/^[+-]?\d+$/.test(v)) return false;
  }
  return true;
}

/**
 * Maps a request to authorization attributes the way kube-apiserver's RequestInfoFactory does.
 * `target` is a full URL or a path with optional query.
 */
export function requestAttributes(method: string, target: string | URL): RequestAttributes {
  const url = typeof target === 'string' ? new URL(target, 'http://localhost') : target;
  const path = decodePath(url.pathname);
  const attrs: RequestAttributes = {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    parts: [],
  };

  let parts = splitPath(path);
  if (parts.length < 3 || !API_PREFIXES.has(parts[0])) return attrs;
  const apiPrefix = parts[0];
  parts = parts.slice(1);
  let apiGroup = '';
  if (!GROUPLESS_PREFIXES.has(apiPrefix)) {
    if (parts.length < 3) return attrs;
    apiGroup = parts[0];
    parts = parts.slice(1);
  }

  attrs.isResourceRequest = true;
  attrs.apiPrefix = apiPrefix;
  attrs.apiGroup = apiGroup;
  attrs.apiVersion = parts[0];
  parts = parts.slice(1);

  if (SPECIAL_VERBS.has(parts[0])) {
    if (parts.length < 2)
      throw errors.internal(`failed to create RequestInfo: unable to determine kind and namespace from url, ${url.pathname}${url.search}`);
    attrs.verb = parts[0];
    parts = parts.slice(1);
  } else {
    attrs.verb = METHOD_VERBS[method.toUpperCase()] ?? '';
  }

  if (parts[0] === 'namespaces') {
    // `/namespaces/<ns>` alone (or with status/finalize) is the Namespace object itself; its namespace
    // attribute is still <ns>, which is what lets a RoleBinding in <ns> grant `get namespaces`.
    if (parts.length > 1) {
      attrs.namespace = parts[1];
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2])) parts = parts.slice(2);
    }
  }

  attrs.parts = parts;
  if (parts.length >= 3 && !SPECIAL_VERBS_NO_SUBRESOURCES.has(attrs.verb)) attrs.subresource = parts[2];
  if (parts.length >= 2) attrs.name = parts[1];
  if (parts.length >= 1) attrs.resource = parts[0];

  if (attrs.name === '' && attrs.verb === 'get') {
    const query = url.searchParams;
    attrs.verb = queryBool(query.getAll('watch')) ? 'watch' : 'list';
    const selector = query.getAll('fieldSelector')[0];
    if (selector !== undefined && listQueryDecodes(query)) {
      const name = nameFromFieldSelector(selector);
      if (name !== undefined && isValidPathSegmentName(name)) attrs.name = name;
    }
  }
  if (attrs.name === '' && attrs.verb === 'delete') attrs.verb = 'deletecollection';
  return attrs;
}

/** The attributes of a fetch Request. */
export function attributesOf(req: Request): RequestAttributes {
  return requestAttributes(req.method, req.url);
}
