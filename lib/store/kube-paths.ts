import type { ResourceDescriptor } from '../api/resources.ts';

// Kept apart from kube-client.ts so code that only builds paths does not load @kubernetes/client-node
// (a large library dev mode never needs).

/** `/api/v1/...` or `/apis/<group>/<version>/...` for a resource, optionally one object and a subresource. */
export function resourcePath(res: ResourceDescriptor, namespace?: string, name?: string, subresource?: string): string {
  const parts = [res.group ? `/apis/${res.group}/${res.version}` : `/api/${res.version}`];
  if (res.namespaced && namespace) parts.push('namespaces', encodeURIComponent(namespace));
  parts.push(res.plural);
  if (name !== undefined) parts.push(encodeURIComponent(name));
  if (subresource) parts.push(subresource);
  return parts.join('/');
}
