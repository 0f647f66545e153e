// Which lists merge element by element, and by which keys. kpt (kyaml's walker with
// InferAssociativeLists off) takes this from the Kubernetes OpenAPI schema: a list whose field has
// patch strategy "merge" is keyed by its x-kubernetes-list-map-keys (else its patch merge key);
// every other list, and every list of a kind the schema does not know (custom resources, plain
// YAML), is replaced as a whole when upstream changed it. The Kptfile merge infers keys instead:
// a list whose elements all have a `name` is keyed by it.

/** How the list at one path merges: by key fields, as a set of scalars, or whole (undefined). */
export type ListStrategy = { keys: string[] } | 'set' | undefined;

export interface ResourceType {
  apiVersion: string;
  kind: string;
}

/** Marks "any element of the list" in a field path. */
export const ELEMENT = '[]';

const BUILTIN_GROUPS = new Set([
  '',
  'apps',
  'batch',
  'autoscaling',
  'policy',
  'extensions',
  'networking.k8s.io',
  'rbac.authorization.k8s.io',
  'storage.k8s.io',
  'apiextensions.k8s.io',
  'apiregistration.k8s.io',
  'admissionregistration.k8s.io',
  'scheduling.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'certificates.k8s.io',
  'node.k8s.io',
  'events.k8s.io',
  'flowcontrol.apiserver.k8s.io',
]);

/** Where each workload kind keeps its PodSpec. */
const POD_SPEC_AT: Record<string, string[]> = {
  Pod: ['spec'],
  PodTemplate: ['template', 'spec'],
  Deployment: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);

const POD_SPEC_LISTS: Record<string, string[]> = {
  containers: ['name'],
  initContainers: ['name'],
  ephemeralContainers: ['name'],
  volumes: ['name'],
  imagePullSecrets: ['name'],
  resourceClaims: ['name'],
  schedulingGates: ['name'],
  hostAliases: ['ip'],
  topologySpreadConstraints: ['topologyKey', 'whenUnsatisfiable'],
};

const CONTAINER_FIELD_LISTS: Record<string, string[]> = {
  ports: ['containerPort', 'protocol'],
  env: ['name'],
  volumeMounts: ['mountPath'],
  volumeDevices: ['devicePath'],
};

export function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
}

function startsWith(path: string[], prefix: string[]): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => path[i] === p);
}

function same(a: string[], b: string[]): boolean {
  return a.length === b.length && startsWith(a, b);
}

/** The schema-given strategy for the list at `path` (field names, ELEMENT for list elements). */
export function schemaListStrategy(type: ResourceType | undefined, path: string[]): ListStrategy {
  if (!type || !BUILTIN_GROUPS.has(groupOf(type.apiVersion))) return undefined;
  if (same(path, ['metadata', 'ownerReferences'])) return { keys: ['uid'] };
  if (same(path, ['metadata', 'finalizers'])) return 'set';
  if (type.kind === 'Service' && same(path, ['spec', 'ports'])) return { keys: ['port', 'protocol'] };
  const root = POD_SPEC_AT[type.kind];
  if (!root || !startsWith(path, root)) return undefined;
  const rel = path.slice(root.length);
  if (rel.length === 1 && POD_SPEC_LISTS[rel[0]]) return { keys: POD_SPEC_LISTS[rel[0]] };
  if (rel.length === 3 && CONTAINER_LISTS.has(rel[0]) && rel[1] === ELEMENT && CONTAINER_FIELD_LISTS[rel[2]])
    return { keys: CONTAINER_FIELD_LISTS[rel[2]] };
  return undefined;
}
