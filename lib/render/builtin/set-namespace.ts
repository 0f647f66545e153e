import { isMap, isSeq, type Document } from 'yaml';
import { FunctionFailure } from '../runtime.ts';
import type { FunctionResultItem } from '../types.ts';
import { gvk, isLocalConfig, str } from './objects.ts';
import type { BuiltinFunction } from './registry-types.ts';
import { isClusterScoped, isNamespaceScoped } from './scope.ts';

// set-namespace v0.4 as documented: namespaced resources, the Namespace object, service references of
// CRD webhooks and APIServices, binding subjects, and depends-on annotations that point at a resource
// of the package. Without `namespaceMatcher` every namespace changes, which the function allows only
// when the resources came from a single upstream namespace.

const CONTEXT_NAME = 'kptfile.kpt.dev';
const DEPENDS_ON = 'config.kubernetes.io/depends-on';
const UPSTREAM = 'internal.kpt.dev/upstream-identifier';
const NAMESPACED_REF = /^([-.\w]*)\/namespaces\/([-.\w]*)\/([-.\w]*)\/([-.\w]*)$/;

interface Config {
  namespace: string;
  matcher?: string;
}

function data(doc: Document, key: string): string | undefined {
  return str(doc, ['data', key]) || undefined;
}

/** A ConfigMap's data.namespace, kptfile.kpt.dev's data.name, or SetNamespace's namespace. */
function configOf(config: Document | undefined, items: readonly Document[]): Config {
  // Porch and kpt packages carry their context in package-context.yaml: with no config, its
  // namespace (or name) is the target, as a pipeline that names that file as configPath would get.
  const cfg = config?.contents ? config : items.find((d) => str(d, ['kind']) === 'ConfigMap' && str(d, ['metadata', 'name']) === CONTEXT_NAME);
  if (!cfg) throw new FunctionFailure('FunctionConfig is missing. Expect `ConfigMap.v1` or `SetNamespace.v1alpha1.fn.kpt.dev`');
  const kind = str(cfg, ['kind']);
  if (kind === 'ConfigMap') {
    const matcher = data(cfg, 'namespaceMatcher');
    const ns = data(cfg, 'namespace') ?? (str(cfg, ['metadata', 'name']) === CONTEXT_NAME ? data(cfg, 'name') : undefined);
    if (!ns) throw new FunctionFailure(str(cfg, ['metadata', 'name']) === CONTEXT_NAME ? '`data.name` should not be empty' : '`data.namespace` should not be empty');
    return { namespace: ns, matcher };
  }
  if (kind === 'SetNamespace') {
    const ns = str(cfg, ['namespace']);
    if (!ns) throw new FunctionFailure('`namespace` should not be empty');
    return { namespace: ns, matcher: str(cfg, ['namespaceMatcher']) || undefined };
  }
  throw new FunctionFailure(`unknown functionConfig Kind=${kind ?? ''} ApiVersion=${str(cfg, ['apiVersion']) ?? ''}, expect \`ConfigMap.v1\` or \`SetNamespace.v1alpha1.fn.kpt.dev\``);
}

function label(doc: Document): string {
  const ns = str(doc, ['metadata', 'namespace']);
  return `${str(doc, ['kind'])}/${ns ? `${ns}/` : ''}${str(doc, ['metadata', 'name'])}`;
}

/** The namespace a resource had upstream, from kpt's upstream-identifier (group|Kind|ns|name). */
function originNamespace(doc: Document): string | undefined {
  const id = str(doc, ['metadata', 'annotations', UPSTREAM]);
  if (!id) return undefined;
  const parts = id.split('|');
  return parts.length === 4 ? parts[2] : undefined;
}

function dependsOnKey(doc: Document): string {
  return `${gvk(doc).group}/namespaces/${str(doc, ['metadata', 'namespace']) || 'default'}/${gvk(doc).kind}/${str(doc, ['metadata', 'name'])}`;
}

export const setNamespace: BuiltinFunction = (all, config) => {
  const cfg = configOf(config, all);
  const objects = all.filter((d) => !isLocalConfig(d));
  const results: FunctionResultItem[] = [];
  const before = new Set(objects.filter(isNamespaceScoped).map(dependsOnKey));
  const origins = new Set<string>();
  for (const o of objects) {
    const origin = originNamespace(o);
    if (origin === undefined) results.push({ message: `${label(o)} does not have upstream origin.`, severity: 'warning' });
    else if (isNamespaceScoped(o) && origin !== '~C') origins.add(origin);
  }
  if (!cfg.matcher && origins.size > 1)
    throw new FunctionFailure(`unable to use origin \`namespace\` to match. expect a single upstream namespace, found [${[...origins].sort().join(' ')}]. please switch to use \`namespaceMatcher\`to specify the namespace value you want to change`, 1, [{ message: 'unable to use origin `namespace` to match', severity: 'error' }]);

  let count = 0;
  const old = new Set<string>();
  const replace = (current: string | undefined, origin: string | undefined): string | undefined => {
    const cur = current || 'default';
    if (cur === cfg.namespace) return undefined;
    if (cfg.matcher && cfg.matcher !== cur && cfg.matcher !== origin) return undefined;
    old.add(cur);
    count++;
    return cfg.namespace;
  };
  const setField = (doc: Document, path: string[], origin?: string) => {
    if (!doc.hasIn(path)) return;
    const next = replace(str(doc, path), origin);
    if (next) doc.setIn(path, next);
  };
  for (const o of objects) {
    const { group, kind } = gvk(o);
    if (isClusterScoped(o)) {
      if (kind === 'Namespace') {
        const next = replace(str(o, ['metadata', 'name']), originNamespace(o) === undefined ? undefined : str(o, ['metadata', 'annotations', UPSTREAM])?.split('|')[3]);
        if (next) o.setIn(['metadata', 'name'], next);
      } else if (kind === 'CustomResourceDefinition' && group === 'apiextensions.k8s.io') setField(o, ['spec', 'conversion', 'webhook', 'clientConfig', 'service', 'namespace']);
      else if (kind === 'APIService' && group === 'apiregistration.k8s.io') setField(o, ['spec', 'service', 'namespace']);
    }
    if (kind === 'ClusterRoleBinding' || kind === 'RoleBinding') {
      const subjects = o.get('subjects', true);
      if (isSeq(subjects)) for (const s of subjects.items) {
        if (!isMap(s) || s.get('kind') !== 'ServiceAccount' || !s.has('namespace')) continue;
        const next = replace(String(s.get('namespace') ?? ''), undefined);
        if (next) s.set('namespace', next);
      }
    }
    if (isNamespaceScoped(o)) {
      const next = replace(str(o, ['metadata', 'namespace']), originNamespace(o));
      if (next) o.setIn(['metadata', 'namespace'], next);
    }
  }
  results.push({ message: count ? `namespace [${[...old].sort().join(' ')}] updated to "${cfg.namespace}", ${count} value(s) changed` : `all matching namespaces are already "${cfg.namespace}". no value changed`, severity: 'info' });

  let annCount = 0;
  const annOld = new Set<string>();
  for (const o of objects) {
    const dep = str(o, ['metadata', 'annotations', DEPENDS_ON]);
    const m = dep ? NAMESPACED_REF.exec(dep) : null;
    if (!dep || !m || !before.has(dep)) continue;
    const ns = m[2];
    if (ns === cfg.namespace || (cfg.matcher && cfg.matcher !== ns)) continue;
    annOld.add(ns);
    annCount++;
    o.setIn(['metadata', 'annotations', DEPENDS_ON], `${m[1]}/namespaces/${cfg.namespace}/${m[3]}/${m[4]}`);
  }
  results.push({ message: annCount ? `\`depends-on\` annotation namespace [${[...annOld].sort().join(' ')}] updated to "${cfg.namespace}", ${annCount} value(s) changed` : 'all `depends-on` annotations are up-to-date. no `namespace` changed', severity: 'info' });
  return results;
};
