import YAML, { isMap, isScalar, isSeq, type Document, type Node, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';
import { isRecord, jsonEqual } from '../util.ts';

// Field-level three-way merge of one KRM resource, kpt's resource-merge rules: a field upstream did
// not change keeps the local value; a field upstream changed takes the upstream value (also when the
// local copy changed it too: upstream wins a conflict, as `kpt pkg update` resolves it); a field
// upstream removed is removed; fields only the local copy has stay. Maps merge key by key, lists of
// maps with a merge key (name, containerPort, …) element by element, other lists as a whole. The
// local document's nodes are edited in place, so its comments, order and formatting survive.

/** Keys that make a list of maps associative, in kpt's order of preference. */
const MERGE_KEYS = ['name', 'containerPort', 'port', 'mountPath', 'devicePath', 'ip', 'type', 'topologyKey'];

type Json = unknown;

function mergeKeyOf(lists: Json[][]): string | undefined {
  const all = lists.flat();
  if (!all.length || !all.every(isRecord)) return undefined;
  return MERGE_KEYS.find((k) => all.every((e) => (e as Record<string, Json>)[k] !== undefined));
}

function keyOf(e: Json, key: string): string {
  return JSON.stringify((e as Record<string, Json>)[key]);
}

/**
 * Merge the upstream change (original → updated) into `local` (a node of `doc`); returns the node to
 * keep in its place, or undefined when the field is to be removed.
 */
export function mergeNode(doc: Document, local: Node | undefined, original: Json, updated: Json): Node | undefined {
  if (jsonEqual(original, updated)) return local;
  if (updated === undefined) return undefined;
  if (local === undefined || local === null) return doc.createNode(updated) as Node;
  if (isMap(local) && isRecord(updated)) return mergeMap(doc, local as YAMLMap, isRecord(original) ? original : {}, updated);
  if (isSeq(local) && Array.isArray(updated)) {
    const localJs = (local as YAMLSeq).toJSON() as Json[];
    const orig = Array.isArray(original) ? original : [];
    const key = mergeKeyOf([orig, updated, localJs]);
    if (key) return mergeList(doc, local as YAMLSeq, orig, updated, key);
  }
  // A scalar, a plain list or a change of type: upstream's value, keeping the local node's comments.
  const replacement = doc.createNode(updated) as Node;
  if (isScalar(local) && isScalar(replacement)) {
    local.value = replacement.value;
    return local;
  }
  (replacement as { commentBefore?: string | null }).commentBefore = (local as { commentBefore?: string | null }).commentBefore;
  (replacement as { comment?: string | null }).comment = (local as { comment?: string | null }).comment;
  return replacement;
}

function pairKey(p: Pair): string {
  return isScalar(p.key) ? String(p.key.value) : String(p.key);
}

function mergeMap(doc: Document, local: YAMLMap, original: Record<string, Json>, updated: Record<string, Json>): Node {
  const seen = new Set<string>();
  for (const pair of [...local.items] as Pair[]) {
    const k = pairKey(pair);
    seen.add(k);
    const inOrig = Object.hasOwn(original, k);
    const inUpd = Object.hasOwn(updated, k);
    if (!inOrig && !inUpd) continue; // only the local copy has it
    const next = mergeNode(doc, pair.value as Node | undefined, original[k], updated[k]);
    if (next === undefined) local.items.splice(local.items.indexOf(pair), 1);
    else pair.value = next;
  }
  for (const [k, v] of Object.entries(updated)) {
    if (seen.has(k)) continue;
    // Removed locally but changed upstream comes back; removed locally and untouched upstream stays removed.
    if (Object.hasOwn(original, k) && jsonEqual(original[k], v)) continue;
    local.items.push(doc.createPair(k, v) as Pair);
  }
  return local;
}

function mergeList(doc: Document, local: YAMLSeq, original: Json[], updated: Json[], key: string): Node {
  const orig = new Map(original.map((e) => [keyOf(e, key), e]));
  const upd = new Map(updated.map((e) => [keyOf(e, key), e]));
  const seen = new Set<string>();
  for (const item of [...local.items] as Node[]) {
    const k = keyOf((item as YAMLMap).toJSON(), key);
    seen.add(k);
    if (!orig.has(k) && !upd.has(k)) continue;
    const next = mergeNode(doc, item, orig.get(k), upd.get(k));
    const at = local.items.indexOf(item);
    if (next === undefined) local.items.splice(at, 1);
    else local.items[at] = next;
  }
  for (const [k, v] of upd) {
    if (seen.has(k)) continue;
    if (orig.has(k) && jsonEqual(orig.get(k), v)) continue;
    local.items.push(doc.createNode(v) as Node);
  }
  return local;
}

/** Merge a whole resource document in place. */
export function mergeDocument(local: Document, original: Json, updated: Json): void {
  const next = mergeNode(local, local.contents as Node, original, updated);
  local.contents = (next ?? null) as Document['contents'];
}

export { YAML };
