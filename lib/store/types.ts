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

export interface ListResult<T extends KubeObject = KubeObject> {
  items: T[];
  resourceVersion: string;
}

/** Every write may be a dry run: checked and computed as the write would be, answered, and nothing stored. */
export interface DryRunOption {
  dryRun?: boolean;
}

export interface UpdateOptions extends DryRunOption {
  /** Write only status (the status subresource) or everything but status (the main resource). */
  subresource?: 'status';
}

export interface DeleteOptions extends DryRunOption {
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
 * the kube-apiserver client (cluster mode). Objects come out typed by their descriptor
 * (`get(REPOSITORIES, …)` answers a Repository): admission checked them against its schema on the way in.
 */
export interface Store {
  get<T extends KubeObject>(res: ResourceDescriptor<T>, namespace: string | undefined, name: string): Promise<T | undefined>;
  list<T extends KubeObject>(res: ResourceDescriptor<T>, opts?: ListOptions): Promise<ListResult<T>>;
  /** With dryRun the answer has uid and creationTimestamp but no resourceVersion, as kube-apiserver's. */
  create<T extends KubeObject>(res: ResourceDescriptor<T>, obj: KubeObject, opts?: DryRunOption): Promise<T>;
  /** Replaces the object; a set metadata.resourceVersion must match the stored one (else 409). */
  update<T extends KubeObject>(res: ResourceDescriptor<T>, obj: KubeObject, opts?: UpdateOptions): Promise<T>;
  /**
   * Deletes, or marks for deletion when finalizers remain (returns the object then, with
   * deletionTimestamp set). Returns the last state of the object.
   */
  delete<T extends KubeObject>(res: ResourceDescriptor<T>, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<T>;
  watch(res: ResourceDescriptor, opts: WatchOptions): Unsubscribe;
  /** The current resourceVersion of the store (what a list would answer). */
  currentResourceVersion(): string;
  close(): Promise<void>;
}
