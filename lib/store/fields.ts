import type { KubeObject } from '../api/meta.ts';
import type { ResourceDescriptor } from '../api/resources.ts';
import { matchesFields, matchesLabels, type FieldSelector, type LabelSelector } from '../api/selectors.ts';
import { errors } from '../errors.ts';

/** The fields kube-apiserver lets a selector name for store-served resources. */
function fieldGetter(res: ResourceDescriptor, obj: KubeObject): (field: string) => string | undefined {
  return (field) => {
    switch (field) {
      case 'metadata.name':
        return obj.metadata.name;
      case 'metadata.namespace':
        return obj.metadata.namespace ?? '';
      case 'type':
        if (res.kind === 'Secret') return typeof obj.type === 'string' ? obj.type : '';
        break;
      case 'status.phase':
        if (res.kind === 'Namespace') return String((obj.status as { phase?: string } | undefined)?.phase ?? '');
        break;
    }
    return undefined;
  };
}

export function checkStoreFieldSelector(res: ResourceDescriptor, sel: FieldSelector): void {
  const probe: KubeObject = { apiVersion: '', kind: res.kind, metadata: { name: '', namespace: '' } };
  const get = fieldGetter(res, probe);
  for (const r of sel) {
    if (get(r.field) === undefined)
      throw errors.badRequest(`field label not supported: ${r.field}`);
  }
}

export function storeObjectMatcher(
  res: ResourceDescriptor,
  namespace: string | undefined,
  labels: LabelSelector | undefined,
  fields: FieldSelector | undefined,
): (obj: KubeObject) => boolean {
  return (obj) => {
    if (namespace !== undefined && obj.metadata.namespace !== namespace) return false;
    if (labels && labels.length && !matchesLabels(labels, obj.metadata.labels)) return false;
    if (fields && fields.length && !matchesFields(fields, fieldGetter(res, obj))) return false;
    return true;
  };
}
