import { isMap, isScalar, isSeq, Pair, Scalar, YAMLMap, YAMLSeq, type Node } from 'yaml';
import { jsonEqual } from '../util.ts';
import { MergeError } from './errors.ts';
import { KeyedItems, type Identity } from './keyed-items.ts';
import { field, keyText, pairValue, scalarText, type Side } from './nodes.ts';
import { ELEMENT, schemaListStrategy, type ListStrategy, type ResourceType } from './schema.ts';

// The field-level three-way merge of one resource, with the rules kpt's resource-merge applies
// (kyaml's merge3 visitor, conflicts resolved by taking the update):
//  - a scalar or a whole list upstream changed (added, removed, new value) takes upstream's value,
//    also when the local copy changed it too; one upstream did not change keeps the local value;
//  - an explicit null in the local copy or upstream removes the field;
//  - maps merge key by key; new keys are appended in sorted order, as kpt does;
//  - lists the schema keys (containers by name, ports by containerPort+protocol, …) merge element
//    by element: local elements keep their place, new ones are appended;
//  - a map or element the local copy deleted gets back only the fields upstream changed, and an
//    empty map where upstream changed nothing (kpt writes `{}` there too).
// The local document's nodes are edited in place, so its comments, order and styles survive.

export interface MergeContext {
  /** File and resource, for error messages. */
  where: string;
  /** The resource's type, for the schema's list keys (undefined: every list merges whole). */
  type?: ResourceType;
  /** Infer list keys from the elements (a `name` on every element), as kpt does for Kptfiles. */
  inferKeys?: boolean;
}

interface Walk extends MergeContext {
  path: string[];
}

function isNullScalar(n: unknown): boolean {
  return isScalar(n) && n.value === null;
}

function missing(n: Side): boolean {
  return n === undefined || n === null || isNullScalar(n);
}

function kindName(n: Node): 'map' | 'list' | 'scalar' {
  return isMap(n) ? 'map' : isSeq(n) ? 'list' : 'scalar';
}

function setField(map: YAMLMap, key: string, value: Side): void {
  const items = map.items as Pair[];
  const at = items.findIndex((p) => keyText(p) === key);
  if (value === undefined) {
    if (at >= 0) items.splice(at, 1);
    return;
  }
  if (at >= 0) {
    if (items[at].value !== value) items[at].value = value;
    return;
  }
  items.push(new Pair(new Scalar(key), value));
}

function js(n: Side): unknown {
  if (n === undefined) return undefined;
  return (n as { toJSON(): unknown }).toJSON();
}

function clone<T extends Node>(n: T): T {
  return n.clone() as T;
}

/** Upstream's node in the local node's place, keeping the comments written around the local one. */
function takeUpdated(d: Side, u: Node): Node {
  const next = clone(u);
  if (d !== undefined && d !== null) {
    next.commentBefore = d.commentBefore;
    next.comment = d.comment;
    next.spaceBefore = d.spaceBefore;
  }
  return next;
}

/** Three-way merge of one value: d = local, o = original upstream, u = updated upstream. */
export function mergeNodes(d: Side, o: Side, u: Side, ctx: MergeContext): Side {
  return walk(d, o, u, { ...ctx, path: [] });
}

function walk(d: Side, o: Side, u: Side, w: Walk): Side {
  const present = ([d, o, u] as Side[]).filter((n): n is Node => !missing(n));
  if (!present.length) return undefined;
  const kind = kindName(present[0]);
  const odd = present.find((n) => kindName(n) !== kind);
  if (odd) {
    const sides = ([['local', d], ['original upstream', o], ['new upstream', u]] as const)
      .filter(([, n]) => !missing(n))
      .map(([name, n]) => `${name}: ${kindName(n as Node)}`)
      .join(', ');
    throw new MergeError('kind-conflict', `${w.where}: field ${w.path.join('.') || '(root)'} holds different kinds of value (${sides}); make them agree before upgrading`);
  }
  if (kind === 'map') return walkMap(d, o, u, w);
  if (kind === 'list') {
    const strategy = listStrategy([d, o, u], w);
    if (strategy === 'set') return walkSet(d, o, u);
    if (strategy) return walkKeyedList(d, o, u, strategy.keys, w);
    return walkWhole(d, o, u);
  }
  return walkScalar(d, o, u);
}

/** A map's pairs by key (the first pair of a repeated key, as `field` finds it). */
function pairsByKey(n: Side): Map<string, Pair> {
  const out = new Map<string, Pair>();
  if (isMap(n)) for (const p of n.items as Pair[]) if (!out.has(keyText(p))) out.set(keyText(p), p);
  return out;
}

// Each key is looked up once per side through an index, and removals are applied in one pass at the
// end: a map of n keys merges in O(n log n) (the sort), not O(n²).
function walkMap(d: Side, o: Side, u: Side, w: Walk): Side {
  if (isNullScalar(u) || isNullScalar(d)) return undefined;
  if (d === undefined && u === undefined) return undefined;
  const target = isMap(d) ? d : new YAMLMap();
  const mine = pairsByKey(target);
  const theirs = pairsByKey(o);
  const next = pairsByKey(u);
  const removed = new Set<Pair>();
  for (const key of [...new Set([...mine.keys(), ...theirs.keys(), ...next.keys()])].sort()) {
    const pair = mine.get(key);
    const value = walk(pairValue(pair), pairValue(theirs.get(key)), pairValue(next.get(key)), { ...w, path: [...w.path, key] });
    if (value === undefined) {
      if (pair) removed.add(pair);
    } else if (pair) {
      if (pair.value !== value) pair.value = value;
    } else target.items.push(new Pair(new Scalar(key), value));
  }
  if (removed.size) target.items = (target.items as Pair[]).filter((p) => !removed.has(p));
  return target;
}

function walkScalar(d: Side, o: Side, u: Side): Side {
  if (isNullScalar(u) || isNullScalar(d)) return undefined;
  if (missing(u) !== missing(o)) return u === undefined ? undefined : takeScalar(d, u);
  if (missing(u) && missing(o)) return d;
  if (!isScalar(u) || !isScalar(o) || u.value !== o.value || typeof u.value !== typeof o.value) return takeScalar(d, u as Node);
  return d;
}

function takeScalar(d: Side, u: Node): Node {
  // Edit the local scalar in place: its comments and position stay, its value and style follow upstream.
  if (isScalar(d) && isScalar(u)) {
    d.value = u.value;
    d.type = u.type;
    d.tag = u.tag;
    d.format = u.format;
    d.source = undefined;
    return d;
  }
  return takeUpdated(d, u);
}

/** A list that merges as one value: upstream's if upstream changed it, else the local one. */
function walkWhole(d: Side, o: Side, u: Side): Side {
  if (isNullScalar(u) || isNullScalar(d)) return undefined;
  if (missing(u) !== missing(o)) return u === undefined ? undefined : takeUpdated(d, u);
  if (missing(u) && missing(o)) return d;
  if (!jsonEqual(js(u), js(o))) return takeUpdated(d, u as Node);
  return d;
}

function listStrategy(nodes: Side[], w: Walk): ListStrategy {
  if (w.inferKeys) {
    const inferred = nodes.some(
      (n) => isSeq(n) && n.items.length > 0 && n.items.every((e) => isMap(e) && scalarText(field(e as Node, 'name')) !== ''),
    );
    return inferred ? { keys: ['name'] } : undefined;
  }
  return schemaListStrategy(w.type, w.path);
}

function itemsOf(n: Side): Node[] {
  return isSeq(n) ? (n.items as Node[]) : [];
}

function walkKeyedList(d: Side, o: Side, u: Side, keys: string[], w: Walk): Side {
  if (missing(u) && !missing(o)) return undefined;
  const target = isSeq(d) ? d : new YAMLSeq();
  const mine = new KeyedItems(target.items as Node[], keys);
  const theirs = new KeyedItems(itemsOf(o), keys);
  const next = new KeyedItems(itemsOf(u), keys);
  // Element identities in the order kpt visits them: local first, then original, then updated.
  const identities: Identity[] = [];
  const seen = new Set<string>();
  for (const list of [mine, theirs, next]) {
    for (const id of list.identities()) {
      if (seen.has(id.sig)) continue;
      seen.add(id.sig);
      identities.push(id);
    }
  }
  const element = { ...w, path: [...w.path, ELEMENT] };
  for (const id of identities) {
    const dSlot = mine.find(id.sig);
    const dE = dSlot?.node;
    const oE = theirs.find(id.sig)?.node;
    const uE = next.find(id.sig)?.node;
    const merged = walk(dE, oE, uE, element);
    if (merged === undefined || (isMap(merged) && merged.items.length === 0)) {
      if (dSlot) mine.remove(dSlot);
      continue;
    }
    // An element rebuilt from upstream's changes keeps the fields that identify it.
    if (isMap(merged))
      for (const k of id.keys) {
        if (field(merged, k) !== undefined) continue;
        const from = field(uE ?? oE ?? dE, k);
        if (from !== undefined) setField(merged, k, clone(from));
      }
    if (dSlot) mine.replace(dSlot, merged);
    else mine.push(merged);
  }
  target.items = mine.items();
  return target;
}

/** A list of scalars that merges as a set (finalizers): upstream's additions and removals apply. */
function walkSet(d: Side, o: Side, u: Side): Side {
  if (missing(u) && !missing(o)) return undefined;
  const target = isSeq(d) ? d : new YAMLSeq();
  const firstOf = (list: Side) => {
    const out = new Map<string, Node>();
    for (const item of itemsOf(list)) if (isScalar(item) && !out.has(scalarText(item))) out.set(scalarText(item), item);
    return out;
  };
  const mine = firstOf(target);
  const theirs = firstOf(o);
  const next = firstOf(u);
  const removed = new Set<Node>();
  const added: Node[] = [];
  for (const v of new Set([...mine.keys(), ...theirs.keys(), ...next.keys()])) {
    const dE = mine.get(v);
    const uE = next.get(v);
    const keep = theirs.has(v) === (uE !== undefined) ? dE !== undefined : uE !== undefined;
    if (!keep && dE) removed.add(dE);
    if (keep && !dE && uE) added.push(clone(uE));
  }
  target.items = [...(target.items as Node[]).filter((n) => !removed.has(n)), ...added];
  return target;
}
