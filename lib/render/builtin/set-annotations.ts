import type { Document } from 'yaml';
import type { BuiltinFunction } from './registry-types.ts';
import { configMapData, gvk, setAll, visitMaps } from './objects.ts';

// set-annotations v0.1: every resource's metadata.annotations, and the ObjectMeta of pod templates
// (kustomize's commonAnnotations field list, which the function documents as its default).

const TEMPLATE_KINDS: Record<string, string[]> = {
  ReplicationController: ['spec/template/metadata/annotations'],
  Deployment: ['spec/template/metadata/annotations'],
  ReplicaSet: ['spec/template/metadata/annotations'],
  DaemonSet: ['spec/template/metadata/annotations'],
  StatefulSet: ['spec/template/metadata/annotations'],
  Job: ['spec/template/metadata/annotations'],
  CronJob: ['spec/jobTemplate/metadata/annotations', 'spec/jobTemplate/spec/template/metadata/annotations'],
};

interface Extra {
  group?: string;
  version?: string;
  kind?: string;
  path: string;
  create: boolean;
}

function extraFields(config: Document | undefined): Extra[] {
  const list: unknown = config?.toJS()?.additionalAnnotationFields;
  if (!Array.isArray(list)) return [];
  return list.flatMap((f: unknown) => {
    if (!f || typeof f !== 'object') return [];
    const o = f as Record<string, unknown>;
    if (typeof o.path !== 'string') return [];
    const s = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
    return [{ group: s('group'), version: s('version'), kind: s('kind'), path: o.path, create: o.create === true }];
  });
}

export const setAnnotations: BuiltinFunction = (items, config) => {
  const values = configMapData(config, 'SetAnnotations', 'annotations');
  const extra = extraFields(config);
  for (const doc of items) {
    const { group, version, kind } = gvk(doc);
    visitMaps(doc, 'metadata/annotations', true, (m) => setAll(doc, m, values));
    for (const p of TEMPLATE_KINDS[kind] ?? []) visitMaps(doc, p, true, (m) => setAll(doc, m, values));
    for (const e of extra) {
      if ((e.group !== undefined && e.group !== group) || (e.version !== undefined && e.version !== version) || (e.kind !== undefined && e.kind !== kind)) continue;
      visitMaps(doc, e.path, e.create, (m) => setAll(doc, m, values));
    }
  }
  return [];
};
