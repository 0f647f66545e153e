import { isMap, isScalar, type Document, type YAMLMap } from 'yaml';
import { FunctionFailure } from '../runtime.ts';
import { gvk, isLocalConfig, str, visitMaps } from './objects.ts';
import type { BuiltinFunction } from './registry-types.ts';

// ensure-name-substring v0.2: prepends or appends a substring to resource names that lack it, and
// follows the rename in references to those resources (pod spec references to ConfigMaps, Secrets,
// ServiceAccounts and claims, binding roleRefs, depends-on annotations) when the referenced resource
// is in the package.

const SKIPPED = new Set(['CustomResourceDefinition', 'Namespace', 'APIService']);
const POD_SPECS = ['spec', 'spec/template/spec', 'spec/jobTemplate/spec/template/spec'];
const CONTAINERS = ['containers[]', 'initContainers[]'];

/** Reference fields, relative to a pod spec, and the kind they name. */
const POD_REFS: { path: string; key: string; kind: string }[] = [
  { path: 'volumes[]/configMap', key: 'name', kind: 'ConfigMap' },
  { path: 'volumes[]/secret', key: 'secretName', kind: 'Secret' },
  { path: 'volumes[]/persistentVolumeClaim', key: 'claimName', kind: 'PersistentVolumeClaim' },
  { path: 'volumes[]/projected/sources[]/configMap', key: 'name', kind: 'ConfigMap' },
  { path: 'volumes[]/projected/sources[]/secret', key: 'name', kind: 'Secret' },
  { path: 'imagePullSecrets[]', key: 'name', kind: 'Secret' },
  ...CONTAINERS.flatMap((c) => [
    { path: `${c}/env[]/valueFrom/configMapKeyRef`, key: 'name', kind: 'ConfigMap' },
    { path: `${c}/env[]/valueFrom/secretKeyRef`, key: 'name', kind: 'Secret' },
    { path: `${c}/envFrom[]/configMapRef`, key: 'name', kind: 'ConfigMap' },
    { path: `${c}/envFrom[]/secretRef`, key: 'name', kind: 'Secret' },
  ]),
];
const DEPENDS_ON = 'config.kubernetes.io/depends-on';

function configOf(config: Document | undefined): { substring: string; append: boolean; extra: { group?: string; version?: string; kind?: string; path: string; create: boolean }[] } {
  if (!config?.contents) throw new FunctionFailure('FunctionConfig is missing. Expect `ConfigMap` or `EnsureNameSubstring`');
  const js = config.toJS() as { kind?: string; data?: Record<string, string>; substring?: string; editMode?: string; additionalNameFields?: { group?: string; version?: string; kind?: string; path: string; create?: boolean }[] };
  if (js.kind === 'ConfigMap') {
    const entries = Object.entries(js.data ?? {});
    if (entries.length !== 1 || (entries[0][0] !== 'prepend' && entries[0][0] !== 'append')) throw new FunctionFailure('`data` must have exactly one key: `prepend` or `append`');
    return { substring: String(entries[0][1]), append: entries[0][0] === 'append', extra: [] };
  }
  if (js.kind === 'EnsureNameSubstring') {
    if (!js.substring) throw new FunctionFailure('`substring` must be set');
    return { substring: js.substring, append: js.editMode === 'append', extra: (js.additionalNameFields ?? []).map((f) => ({ ...f, create: f.create === true })) };
  }
  throw new FunctionFailure(`unknown functionConfig Kind=${js.kind ?? ''}, expect \`ConfigMap\` or \`EnsureNameSubstring\``);
}

export const ensureNameSubstring: BuiltinFunction = (all, config) => {
  const cfg = configOf(config);
  const edit = (name: string) => (name.includes(cfg.substring) ? name : cfg.append ? `${name}${cfg.substring}` : `${cfg.substring}${name}`);
  const items = all.filter((d) => !isLocalConfig(d) && !SKIPPED.has(gvk(d).kind));
  // Renamed resources by kind/namespace/name, as referenced before the rename.
  const renamed = new Map<string, string>();
  const id = (kind: string, ns: string, name: string) => `${kind}/${ns}/${name}`;
  for (const d of items) {
    const name = str(d, ['metadata', 'name']) ?? '';
    const next = edit(name);
    if (next !== name) renamed.set(id(gvk(d).kind, str(d, ['metadata', 'namespace']) ?? '', name), next);
  }
  const rename = (m: YAMLMap, key: string, kind: string, ns: string) => {
    const cur = m.get(key, true);
    if (!isScalar(cur)) return;
    const next = renamed.get(id(kind, ns, String(cur.value)));
    if (next) cur.value = next;
  };
  for (const d of items) {
    const { group, version, kind } = gvk(d);
    const ns = str(d, ['metadata', 'namespace']) ?? '';
    for (const spec of POD_SPECS) for (const r of POD_REFS) visitMaps(d, `${spec}/${r.path}`, false, (m) => rename(m, r.key, r.kind, ns));
    for (const spec of POD_SPECS) visitMaps(d, spec, false, (m) => rename(m, 'serviceAccountName', 'ServiceAccount', ns));
    if (kind === 'RoleBinding' || kind === 'ClusterRoleBinding') {
      const ref = d.get('roleRef', true);
      if (isMap(ref)) rename(ref, 'name', String(ref.get('kind')), ref.get('kind') === 'Role' ? ns : '');
    }
    const dep = str(d, ['metadata', 'annotations', DEPENDS_ON]);
    const m = dep ? /^([^/]*)\/(?:namespaces\/([^/]*)\/)?([^/]+)\/([^/]+)$/.exec(dep) : null;
    if (m) {
      const next = renamed.get(id(m[3], m[2] ?? '', m[4]));
      if (next) d.setIn(['metadata', 'annotations', DEPENDS_ON], dep!.slice(0, dep!.length - m[4].length) + next);
    }
    for (const f of cfg.extra) {
      if ((f.group !== undefined && f.group !== group) || (f.version !== undefined && f.version !== version) || (f.kind !== undefined && f.kind !== kind)) continue;
      const slash = f.path.lastIndexOf('/');
      const key = f.path.slice(slash + 1);
      visitMaps(d, f.path.slice(0, slash), f.create, (map) => {
        const cur = map.get(key);
        if (cur !== undefined || f.create) map.set(key, edit(cur === undefined || cur === null ? '' : String(cur)));
      });
    }
  }
  for (const d of items) {
    const name = str(d, ['metadata', 'name']) ?? '';
    const next = edit(name);
    if (next !== name) d.setIn(['metadata', 'name'], next);
  }
  return [];
};
