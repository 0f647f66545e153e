import { isMap, type Node } from 'yaml';
import { field, scalarText } from './nodes.ts';

// The elements of a keyed list (containers by name, ports by containerPort+protocol, …) indexed by
// their key values, so the merge finds an element in O(1) instead of scanning the list for each one.
// An element that leaves a key out matches on the keys it has, so every element is indexed under
// each combination of its non-empty key values (lists have one or two keys: at most three entries).
// The local list changes while it merges — elements are replaced, removed and appended — and a
// lookup must see it as it is then, exactly as a scan of the list would: first match in list order.

export interface Identity {
  keys: string[];
  values: string[];
  sig: string;
}

interface Slot {
  node: Node;
  order: number;
  live: boolean;
  sigs: Set<string>;
}

/** Slots that had a signature, in list order; entries before `head` are known stale. */
interface Bucket {
  slots: Slot[];
  head: number;
}

function signature(keys: string[], values: string[]): string {
  return JSON.stringify([keys, values]);
}

export class KeyedItems {
  private readonly slots: Slot[] = [];
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    items: Node[],
    private readonly keys: string[],
  ) {
    for (const node of items) this.push(node);
  }

  private values(node: Node): string[] {
    return this.keys.map((k) => scalarText(field(node, k)));
  }

  private signatures(node: Node): Set<string> {
    const out = new Set<string>();
    if (!isMap(node)) return out;
    const values = this.values(node);
    const present = this.keys.map((_, i) => i).filter((i) => values[i] !== '');
    for (let mask = 1; mask < 1 << present.length; mask++) {
      const chosen = present.filter((_, bit) => mask & (1 << bit));
      out.add(signature(chosen.map((i) => this.keys[i]), chosen.map((i) => values[i])));
    }
    return out;
  }

  /** The identity of each element with a key, in list order (as the merge first saw the list). */
  identities(): Identity[] {
    const out: Identity[] = [];
    for (const slot of this.slots) {
      if (!slot.live || !isMap(slot.node)) continue;
      const values = this.values(slot.node);
      const keys = this.keys.filter((_, i) => values[i] !== '');
      if (!keys.length) continue;
      const present = values.filter((v) => v !== '');
      out.push({ keys, values: present, sig: signature(keys, present) });
    }
    return out;
  }

  /** The first element, in the list's current order, whose key values match `sig`. */
  find(sig: string): Slot | undefined {
    const bucket = this.buckets.get(sig);
    if (!bucket) return undefined;
    while (bucket.head < bucket.slots.length) {
      const slot = bucket.slots[bucket.head];
      if (slot.live && slot.sigs.has(sig)) return slot;
      bucket.head++;
    }
    return undefined;
  }

  private file(slot: Slot, sig: string): void {
    let bucket = this.buckets.get(sig);
    if (!bucket) this.buckets.set(sig, (bucket = { slots: [], head: 0 }));
    const { slots } = bucket;
    let lo = bucket.head;
    let hi = slots.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (slots[mid].order < slot.order) lo = mid + 1;
      else hi = mid;
    }
    slots.splice(lo, 0, slot);
  }

  push(node: Node): void {
    const slot: Slot = { node, order: this.slots.length, live: true, sigs: this.signatures(node) };
    this.slots.push(slot);
    for (const sig of slot.sigs) this.file(slot, sig);
  }

  /** `node` in the slot's place; its key values may differ from the element it replaces. */
  replace(slot: Slot, node: Node): void {
    const before = slot.sigs;
    slot.node = node;
    slot.sigs = this.signatures(node);
    for (const sig of slot.sigs) if (!before.has(sig)) this.file(slot, sig);
  }

  remove(slot: Slot): void {
    slot.live = false;
  }

  items(): Node[] {
    return this.slots.filter((s) => s.live).map((s) => s.node);
  }
}
