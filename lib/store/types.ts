import type { KubeObject } from '../api/meta.ts';
import type { ResourceDescriptor } from '../api/resources.ts';
import type { FieldSelector, LabelSelector } from '../api/selectors.ts';
import type { Unsubscribe, WatchEvent } from '../watch/types.ts';

export interface ListOptions {
  /** Undefined lists across all namespaces. */
  namespace?: string;
  labelSelector?: LabelSelector;
  fieldSelector?: FieldSelector;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
}

export interface UpdateOptions {
  /** Write only status (the status subresource) or everything but status (the main resource). */
  subresource?: 'status';
}

export interface DeleteOptions {
  /** Precondition: the object's current resourceVersion. */
  resourceVersion?: string;
  uid?: string;
}

export interface WatchOptions extends ListOptions {
  /** Replay changes after this resourceVersion; "" or "0" means start from now. */
  resourceVersion?: string;
  send: (event: WatchEvent) => void;
}

/**
 * Kubernetes-style object storage with kube-apiserver semantics: resourceVersion preconditions (409),
 * generation, finalizers and status subresource. Implemented by the embedded on-disk store (dev) and by
 * the kube-apiserver client (cluster mode).
 */
export interface Store {
  get(res: ResourceDescriptor, namespace: string | undefined, name: string): Promise<KubeObject | undefined>;
  list(res: ResourceDescriptor, opts?: ListOptions): Promise<ListResult>;
  create(res: ResourceDescriptor, obj: KubeObject): Promise<KubeObject>;
  /** Replaces the object; a set metadata.resourceVersion must match the stored one (else 409). */
  update(res: ResourceDescriptor, obj: KubeObject, opts?: UpdateOptions): Promise<KubeObject>;
  /**
   * Deletes, or marks for deletion when finalizers remain (returns the object then, with
   * deletionTimestamp set). Returns the last state of the object.
   */
  delete(res: ResourceDescriptor, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<KubeObject>;
  watch(res: ResourceDescriptor, opts: WatchOptions): Unsubscribe;
  /** The current resourceVersion of the store (what a list would answer). */
  currentResourceVersion(): string;
  close(): Promise<void>;
}
