import type { KubeObject } from './meta.ts';

// kube-apiserver answers lists in storage key order, namespace then name, comparing bytes as Go does;
// String `<` compares UTF-16 code units, which orders the ASCII of Kubernetes names the same way.

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareByKey(a: KubeObject, b: KubeObject): number {
  return compareStrings(a.metadata.namespace ?? '', b.metadata.namespace ?? '') || compareStrings(a.metadata.name ?? '', b.metadata.name ?? '');
}

/**
 * Sorts in place into namespace/name order and returns the array. V8's sort is a TimSort, so input
 * that is already (mostly) in order, as the engine's and store's maps yield it, costs about one pass.
 */
export function inKeyOrder<T extends KubeObject>(items: T[]): T[] {
  return items.sort(compareByKey);
}

/**
 * A collection's objects in key order, sorted once and kept until the collection changes: listing
 * thousands of objects then costs a filter pass, not a sort.
 */
export class KeyOrderedView<T extends KubeObject> {
  private sorted: readonly T[] | undefined;

  constructor(private readonly all: () => Iterable<T>) {}

  /** Forgets the order; the next read sorts afresh. */
  changed(): void {
    this.sorted = undefined;
  }

  items(): readonly T[] {
    return (this.sorted ??= inKeyOrder([...this.all()]));
  }
}
