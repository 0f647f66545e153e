import * as v from 'valibot';

const stringMap = v.record(v.string(), v.string());

export const OwnerReferenceSchema = v.object({
  apiVersion: v.string(),
  kind: v.string(),
  name: v.string(),
  uid: v.string(),
  controller: v.optional(v.boolean()),
  blockOwnerDeletion: v.optional(v.boolean()),
});

export const ObjectMetaSchema = v.pipe(
  v.object({
    name: v.optional(v.pipe(v.string(), v.description('Name must be unique within a namespace.'))),
    generateName: v.optional(v.string()),
    namespace: v.optional(v.pipe(v.string(), v.description('Namespace defines the space within which each name must be unique.'))),
    uid: v.optional(v.string()),
    resourceVersion: v.optional(v.string()),
    generation: v.optional(v.number()),
    creationTimestamp: v.optional(v.nullable(v.string())),
    deletionTimestamp: v.optional(v.nullable(v.string())),
    deletionGracePeriodSeconds: v.optional(v.number()),
    labels: v.optional(v.nullable(stringMap)),
    annotations: v.optional(v.nullable(stringMap)),
    finalizers: v.optional(v.nullable(v.array(v.string()))),
    ownerReferences: v.optional(v.nullable(v.array(OwnerReferenceSchema))),
    managedFields: v.optional(v.nullable(v.array(v.looseObject({})))),
  }),
  v.description('Standard object metadata.'),
);

export type OwnerReference = v.InferOutput<typeof OwnerReferenceSchema>;

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string | null;
  deletionTimestamp?: string | null;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string> | null;
  annotations?: Record<string, string> | null;
  finalizers?: string[] | null;
  ownerReferences?: OwnerReference[] | null;
  managedFields?: Record<string, unknown>[] | null;
}

/** Any Kubernetes-style object as it is stored and served. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** An object of one kind with the spec and status it is always served with. */
export interface KindObject<K extends string, Spec, Status> extends KubeObject {
  kind: K;
  spec: Spec;
  status: Status;
}

export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function dnsLabelProblem(value: string): string | undefined {
  if (value.length > 63) return 'must be no more than 63 characters';
  if (!DNS1123_LABEL.test(value))
    return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
  return undefined;
}

export function dnsSubdomainProblem(value: string): string | undefined {
  if (value.length > 253) return 'must be no more than 253 characters';
  if (!DNS1123_SUBDOMAIN.test(value))
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  return undefined;
}

/**
 * The schema of a top-level object of `description`: apiVersion, kind and ObjectMeta first, as every kind
 * carries them, then the kind's own fields.
 */
export function objectSchema<const E extends v.ObjectEntries>(description: string, entries: E) {
  return v.pipe(v.object({ apiVersion: v.optional(v.string()), kind: v.optional(v.string()), metadata: ObjectMetaSchema, ...entries }), v.description(description));
}

/** The schema of a kind whose own fields are a spec and a status, as most kinds' are. */
export function specStatusSchema<const S extends v.GenericSchema, const T extends v.GenericSchema>(description: string, spec: S, status: T) {
  return objectSchema(description, { spec: v.optional(spec), status: v.optional(status) });
}
