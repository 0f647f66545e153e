import { isMap, isScalar, isSeq, Pair, Scalar, YAMLMap, YAMLSeq, type Node } from 'yaml';
import { jsonEqual } from '../util.ts';
import { MergeError } from './errors.ts';
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

type Side = Node | undefined;

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

function keyText(p: Pair): string {
  return isScalar(p.key) ? String(p.key.value) : String(p.key);
}

/** A field of a map: undefined when absent; a null scalar when present but empty or null. */
export function field(map: Side, key: string): Side {
  if (!isMap(map)) return undefined;
  const pair = (map.items as Pair[]).find((p) => keyText(p) === key);
  if (!pair) return undefined;
  return (pair.value as Node | null) ?? new Scalar(null);
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

function fieldNames(nodes: Side[]): string[] {
  const names = new Set<string>();
  for (const n of nodes) if (isMap(n)) for (const p of n.items as Pair[]) names.add(keyText(p));
  return [...names].sort();
}

function js(n: Side): unknown {
  if (n === undefined) return undefined;
  return (n as { toJSON(): unknown }).toJSON();
}

function scalarText(n: Side): string {
  if (!isScalar(n) || n.value === null || n.value === undefined) return '';
  return String(n.value);
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

function walkMap(d: Side, o: Side, u: Side, w: Walk): Side {
  if (isNullScalar(u) || isNullScalar(d)) return undefined;
  if (d === undefined && u === undefined) return undefined;
  const target = isMap(d) ? d : new YAMLMap();
  for (const key of fieldNames([d, o, u])) {
    const next = walk(field(target, key), field(o, key), field(u, key), { ...w, path: [...w.path, key] });
    setField(target, key, next);
  }
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

function matches(item: Node, keys: string[], values: string[]): boolean {
  return isMap(item) && keys.every((k, i) => scalarText(field(item, k)) === values[i]);
}

function walkKeyedList(d: Side, o: Side, u: Side, keys: string[], w: Walk): Side {
  if (missing(u) && !missing(o)) return undefined;
  const target = isSeq(d) ? d : new YAMLSeq();
  // Element identities in the order kpt visits them: local first, then original, then updated.
  const identities: { keys: string[]; values: string[] }[] = [];
  const seen = new Set<string>();
  for (const list of [target, o, u]) {
    for (const item of itemsOf(list)) {
      if (!isMap(item)) continue;
      const values = keys.map((k) => scalarText(field(item, k)));
      // Keys an element leaves out do not take part in matching it.
      const used = keys.filter((_, i) => values[i] !== '');
      if (!used.length) continue;
      const id = { keys: used, values: values.filter((v) => v !== '') };
      const sig = JSON.stringify(id);
      if (seen.has(sig)) continue;
      seen.add(sig);
      identities.push(id);
    }
  }
  const element = { ...w, path: [...w.path, ELEMENT] };
  for (const id of identities) {
    const find = (list: Side) => itemsOf(list).find((e) => matches(e, id.keys, id.values));
    const dE = find(target);
    const oE = find(o);
    const uE = find(u);
    const next = walk(dE, oE, uE, element);
    const items = target.items as Node[];
    if (next === undefined || (isMap(next) && next.items.length === 0)) {
      if (dE) items.splice(items.indexOf(dE), 1);
      continue;
    }
    // An element rebuilt from upstream's changes keeps the fields that identify it.
    if (isMap(next))
      for (const k of id.keys) {
        if (field(next, k) !== undefined) continue;
        const from = field(uE ?? oE ?? dE, k);
        if (from !== undefined) setField(next, k, clone(from));
      }
    if (dE) items[items.indexOf(dE)] = next;
    else items.push(next);
  }
  return target;
}

/** A list of scalars that merges as a set (finalizers): upstream's additions and removals apply. */
function walkSet(d: Side, o: Side, u: Side): Side {
  if (missing(u) && !missing(o)) return undefined;
  const target = isSeq(d) ? d : new YAMLSeq();
  const values: string[] = [];
  for (const list of [target, o, u]) for (const item of itemsOf(list)) if (isScalar(item) && !values.includes(scalarText(item))) values.push(scalarText(item));
  for (const v of values) {
    const find = (list: Side) => itemsOf(list).find((e) => isScalar(e) && scalarText(e) === v);
    const dE = find(target);
    const inO = find(o) !== undefined;
    const uE = find(u);
    const items = target.items as Node[];
    const keep = inO === (uE !== undefined) ? dE !== undefined : uE !== undefined;
    if (!keep && dE) items.splice(items.indexOf(dE), 1);
    if (keep && !dE && uE) items.push(clone(uE));
  }
  return target;
}
