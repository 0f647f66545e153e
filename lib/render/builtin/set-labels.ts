import type { BuiltinFunction } from './registry-types.ts';
import { configMapData, gvk, setAll, visitMaps } from './objects.ts';

// set-labels v0.2: metadata.labels of every resource, and the selectors and templates that must carry
// the same labels for the workload to keep selecting its pods (kustomize's commonLabels field list,
// which the function's README names as its default).

interface Spec {
  kind: string;
  group?: string;
  path: string;
  create: boolean;
}

const TEMPLATE = 'spec/template/metadata/labels';
const AFFINITY = ['podAffinity', 'podAntiAffinity'].flatMap((a) => [
  `spec/template/spec/affinity/${a}/preferredDuringSchedulingIgnoredDuringExecution[]/podAffinityTerm/labelSelector/matchLabels`,
  `spec/template/spec/affinity/${a}/requiredDuringSchedulingIgnoredDuringExecution[]/labelSelector/matchLabels`,
]);
const SPREAD = 'spec/template/spec/topologySpreadConstraints[]/labelSelector/matchLabels';

const SPECS: Spec[] = [
  { kind: 'Service', group: '', path: 'spec/selector', create: true },
  { kind: 'ReplicationController', group: '', path: 'spec/selector', create: true },
  { kind: 'ReplicationController', group: '', path: TEMPLATE, create: true },
  ...['Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet'].flatMap((kind) => [
    { kind, path: 'spec/selector/matchLabels', create: true },
    { kind, path: TEMPLATE, create: true },
  ]),
  ...['Deployment', 'StatefulSet'].flatMap((kind) => [...AFFINITY, SPREAD].map((path) => ({ kind, group: 'apps', path, create: false }))),
  { kind: 'StatefulSet', group: 'apps', path: 'spec/volumeClaimTemplates[]/metadata/labels', create: true },
  { kind: 'Job', group: 'batch', path: 'spec/selector/matchLabels', create: false },
  { kind: 'Job', group: 'batch', path: TEMPLATE, create: true },
  { kind: 'CronJob', group: 'batch', path: 'spec/jobTemplate/spec/selector/matchLabels', create: false },
  { kind: 'CronJob', group: 'batch', path: 'spec/jobTemplate/metadata/labels', create: true },
  { kind: 'CronJob', group: 'batch', path: 'spec/jobTemplate/spec/template/metadata/labels', create: true },
  { kind: 'PodDisruptionBudget', group: 'policy', path: 'spec/selector/matchLabels', create: false },
  { kind: 'NetworkPolicy', group: 'networking.k8s.io', path: 'spec/podSelector/matchLabels', create: false },
  { kind: 'NetworkPolicy', group: 'networking.k8s.io', path: 'spec/ingress[]/from[]/podSelector/matchLabels', create: false },
  { kind: 'NetworkPolicy', group: 'networking.k8s.io', path: 'spec/egress[]/to[]/podSelector/matchLabels', create: false },
];

export const setLabels: BuiltinFunction = (items, config) => {
  const values = configMapData(config, 'SetLabels', 'labels');
  for (const doc of items) {
    const { group, kind } = gvk(doc);
    visitMaps(doc, 'metadata/labels', true, (m) => setAll(doc, m, values));
    for (const s of SPECS) if (s.kind === kind && (s.group === undefined || s.group === group)) visitMaps(doc, s.path, s.create, (m) => setAll(doc, m, values));
  }
  return [];
};
