import { isMap, isScalar, isSeq, type Document, type Node, type Pair } from 'yaml';

// A function that parses and re-prints its input loses comments and formatting. kpt copies the
// comments of each input resource onto its output; lib/render goes further and keeps the input's
// own nodes wherever the value did not change, so only changed fields are re-printed.

type Commented = Node & { comment?: string | null; commentBefore?: string | null };

function sameScalar(a: Node, b: Node): boolean {
  return isScalar(a) && isScalar(b) && a.value === b.value;
}

function carryComments(from: Commented, to: Commented): void {
  if (!to.comment && from.comment) to.comment = from.comment;
  if (!to.commentBefore && from.commentBefore) to.commentBefore = from.commentBefore;
}

function keyOf(p: Pair): unknown {
  return isScalar(p.key) ? p.key.value : p.key;
}

/** `original` changed in place to hold the value of `updated`; returns the node to use. */
function merge(original: Node, updated: Node): Node {
  if (isMap(original) && isMap(updated)) {
    const next = new Map<unknown, Pair>();
    for (const p of updated.items as Pair[]) next.set(keyOf(p), p);
    const kept: Pair[] = [];
    for (const p of original.items as Pair[]) {
      const u = next.get(keyOf(p));
      if (!u) continue;
      next.delete(keyOf(p));
      p.value = p.value && u.value ? merge(p.value as Node, u.value as Node) : u.value;
      kept.push(p);
    }
    original.items = [...kept, ...next.values()];
    return original;
  }
  if (isSeq(original) && isSeq(updated)) {
    const items = updated.items.map((u, i) => {
      const o = original.items[i];
      return o && u ? merge(o as Node, u as Node) : u;
    });
    original.items = items;
    return original;
  }
  if (sameScalar(original, updated)) return original;
  carryComments(original as Commented, updated as Commented);
  return updated;
}

/** The function's output for one resource, printed like its input where the two agree. */
export function keepFormat(input: Document, output: Document): void {
  if (!input.contents || !output.contents) return;
  output.contents = merge(input.clone().contents as Node, output.contents as Node);
  if (!output.commentBefore && input.commentBefore) output.commentBefore = input.commentBefore;
  if (!output.comment && input.comment) output.comment = input.comment;
}
