import type { ResourceDescriptor } from '../../lib/api/resources.ts';

function prefix(res: ResourceDescriptor): string {
  return res.group ? `/apis/${res.group}/${res.version}` : `/api/${res.version}`;
}

/** Where a namespaced resource's collection lives (`:namespace` bound), or the cluster-scoped one. */
export function collectionPath(res: ResourceDescriptor): string {
  return res.namespaced ? `${prefix(res)}/namespaces/:namespace/${res.plural}` : `${prefix(res)}/${res.plural}`;
}

/** The list across all namespaces (same as collectionPath for cluster-scoped resources). */
export function allNamespacesPath(res: ResourceDescriptor): string {
  return `${prefix(res)}/${res.plural}`;
}

export function itemPath(res: ResourceDescriptor, subresource?: string): string {
  return `${collectionPath(res)}/:name${subresource ? `/${subresource}` : ''}`;
}

/** Legacy `/watch/` paths some clients still use. */
export function watchPaths(res: ResourceDescriptor): string[] {
  const p = prefix(res);
  return res.namespaced
    ? [`${p}/watch/namespaces/:namespace/${res.plural}`, `${p}/watch/${res.plural}`, `${p}/watch/namespaces/:namespace/${res.plural}/:name`]
    : [`${p}/watch/${res.plural}`, `${p}/watch/${res.plural}/:name`];
}
