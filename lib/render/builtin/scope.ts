import type { Document } from 'yaml';
import { gvk, str } from './objects.ts';

// Whether a resource lives in a namespace, for the built-in kinds the catalog functions know;
// any other kind counts as namespaced when it has a namespace (the functions' own rule).

const CLUSTER = new Set(['Namespace', 'Node', 'PersistentVolume', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'APIService', 'StorageClass', 'PriorityClass', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'CSIDriver', 'CSINode', 'IngressClass', 'RuntimeClass', 'VolumeAttachment', 'CertificateSigningRequest', 'PodSecurityPolicy', 'ComponentStatus', 'FlowSchema', 'PriorityLevelConfiguration', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
const NAMESPACED = new Set(['ConfigMap', 'Secret', 'Service', 'ServiceAccount', 'Pod', 'PodTemplate', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob', 'Role', 'RoleBinding', 'Ingress', 'NetworkPolicy', 'PersistentVolumeClaim', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Endpoints', 'EndpointSlice', 'LimitRange', 'ResourceQuota', 'Event', 'Lease', 'ControllerRevision']);
const BUILTIN_GROUPS = /^(|apps|batch|policy|autoscaling|networking\.k8s\.io|rbac\.authorization\.k8s\.io|apiextensions\.k8s\.io|apiregistration\.k8s\.io|storage\.k8s\.io|scheduling\.k8s\.io|admissionregistration\.k8s\.io|coordination\.k8s\.io|discovery\.k8s\.io|certificates\.k8s\.io|node\.k8s\.io|flowcontrol\.apiserver\.k8s\.io|events\.k8s\.io)$/;

export function isClusterScoped(doc: Document): boolean {
  const { group, kind } = gvk(doc);
  return BUILTIN_GROUPS.test(group) && CLUSTER.has(kind);
}

export function isNamespaceScoped(doc: Document): boolean {
  const { group, kind } = gvk(doc);
  if (BUILTIN_GROUPS.test(group) && NAMESPACED.has(kind)) return true;
  return !isClusterScoped(doc) && !!str(doc, ['metadata', 'namespace']);
}
