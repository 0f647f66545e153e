import { isMap, isScalar, Pair, Scalar, YAMLMap, type Document, type Node } from 'yaml';
import { mergeNodes } from './merge3.ts';
import { field } from './nodes.ts';
import { parseYaml, renderDocs } from './resources.ts';

// The root Kptfile, merged as kpt merges it on update: only metadata.annotations,
// metadata.labels, info, pipeline, inventory and status take upstream's changes (three-way, list
// keys inferred from a `name` on every element); the package's own name, namespace, upstream and
// upstreamLock stay as they are locally — the engine records the new upstream afterwards.
// Pipeline functions without names are matched by image (tag dropped) or exec, as kpt does, as
// long as no function has a name and no image repeats.

const MERGED: string[][] = [['metadata', 'annotations'], ['metadata', 'labels'], ['info'], ['pipeline'], ['inventory'], ['status']];
const FUNCTION_LISTS = ['mutators', 'validators'];
const SYNTHETIC = '_kpt-merge_';

function functionsOf(doc: Document | undefined): YAMLMap[] {
  const pipeline = field(doc?.contents as Node | undefined, 'pipeline');
  return FUNCTION_LISTS.flatMap((list) => {
    const seq = field(pipeline, list);
    return seq && 'items' in seq ? ((seq.items as Node[]).filter((n) => isMap(n)) as YAMLMap[]) : [];
  });
}

function functionKey(fn: YAMLMap): string {
  const exec = field(fn, 'exec');
  if (isScalar(exec) && exec.value) return String(exec.value);
  const image = field(fn, 'image');
  return isScalar(image) && image.value ? String(image.value).split(':')[0] : '';
}

function canNameFunctions(docs: (Document | undefined)[]): boolean {
  for (const doc of docs) {
    const pipeline = field(doc?.contents as Node | undefined, 'pipeline');
    for (const list of FUNCTION_LISTS) {
      const seq = field(pipeline, list);
      const fns = seq && 'items' in seq ? (seq.items as Node[]).filter((n) => isMap(n)) : [];
      const keys = new Set<string>();
      for (const fn of fns) {
        if (field(fn, 'name') !== undefined) return false;
        const key = functionKey(fn as YAMLMap);
        if (keys.has(key)) return false;
        keys.add(key);
      }
    }
  }
  return true;
}

function pathGet(doc: Document | undefined, path: string[]): Node | undefined {
  let node = doc?.contents as Node | undefined;
  for (const key of path) node = field(node, key);
  return node;
}

function pathSet(doc: Document, path: string[], value: Node | undefined): void {
  let node = doc.contents as Node;
  for (const key of path.slice(0, -1)) {
    let next = field(node, key);
    if (!isMap(next)) {
      if (value === undefined) return;
      next = new YAMLMap();
      (node as YAMLMap).set(new Scalar(key), next);
    }
    node = next;
  }
  const last = path[path.length - 1];
  const map = node as YAMLMap;
  if (value === undefined) {
    map.delete(last);
    return;
  }
  const pair = (map.items as Pair[]).find((p) => isScalar(p.key) && p.key.value === last);
  if (pair) {
    if (pair.value !== value) pair.value = value;
  } else map.items.push(new Pair(new Scalar(last), value));
}

/** The merged Kptfile text; undefined when the package ends up without one. */
export function mergeKptfile(original: string | undefined, updated: string | undefined, local: string | undefined): string | undefined {
  if (local === undefined) return updated;
  if (updated === undefined) return local;
  const [l] = parseYaml(local, 'local', 'Kptfile');
  const [u] = parseYaml(updated, 'new upstream', 'Kptfile');
  const o = original === undefined ? undefined : parseYaml(original, 'original upstream', 'Kptfile')[0];
  if (!l || !isMap(l.contents) || !u) return local;
  const before = JSON.stringify(l.toJS());

  const named = canNameFunctions([l, o, u]);
  if (named) for (const doc of [l, o, u]) for (const fn of functionsOf(doc)) fn.set(new Scalar('name'), new Scalar(`${SYNTHETIC}${functionKey(fn)}`));
  for (const path of MERGED) {
    const mine = pathGet(l, path);
    const merged = mergeNodes(mine, pathGet(o, path), pathGet(u, path), { where: 'Kptfile', inferKeys: true });
    // kpt drops empty sections when it writes the Kptfile back.
    if (isMap(merged) && merged.items.length === 0 && mine === undefined) continue;
    pathSet(l, path, merged);
  }
  if (named) for (const fn of functionsOf(l)) fn.delete('name');

  return JSON.stringify(l.toJS()) === before ? local : renderDocs([l], local);
}
