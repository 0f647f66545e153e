import { isMap, isScalar, isSeq, type Document, type YAMLMap } from 'yaml';
import { FunctionFailure } from '../runtime.ts';

// Helpers the built-in functions share: reading a resource's identity and config, and setting
// string maps in a document so its comments and field order stay as they were.

export const LOCAL_CONFIG = 'config.kubernetes.io/local-config';

export function str(doc: Document, path: readonly string[]): string | undefined {
  const v: unknown = doc.getIn(path);
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

export function gvk(doc: Document): { group: string; version: string; kind: string } {
  const av = str(doc, ['apiVersion']) ?? '';
  const slash = av.indexOf('/');
  return { group: slash < 0 ? '' : av.slice(0, slash), version: slash < 0 ? av : av.slice(slash + 1), kind: str(doc, ['kind']) ?? '' };
}

export function isLocalConfig(doc: Document): boolean {
  const v = str(doc, ['metadata', 'annotations', LOCAL_CONFIG]);
  return v !== undefined && v !== 'false';
}

/** A functionConfig's string map: `data` of a ConfigMap, or `field` of the function's own kind. */
export function configMapData(config: Document | undefined, kind: string, field: string): Record<string, string> {
  if (!config || !config.contents) throw new FunctionFailure(`FunctionConfig is missing. Expect \`ConfigMap\` or \`${kind}\``);
  const k = str(config, ['kind']);
  const src: unknown = k === 'ConfigMap' ? config.get('data') : k === kind ? config.get(field) : undefined;
  if (k !== 'ConfigMap' && k !== kind) throw new FunctionFailure(`unknown functionConfig Kind=${k ?? ''} ApiVersion=${str(config, ['apiVersion']) ?? ''}, expect \`ConfigMap\` or \`${kind}\``);
  const out: Record<string, string> = {};
  const node = isMap(src) ? src : undefined;
  for (const p of node?.items ?? []) {
    const key = isScalar(p.key) ? String(p.key.value) : '';
    out[key] = isScalar(p.value) && p.value.value !== null ? String(p.value.value) : '';
  }
  return out;
}

/** Walks a slash-separated path; `[]` after a segment visits each element of a list there. */
export function visitMaps(doc: Document, path: string, create: boolean, visit: (map: YAMLMap) => void): void {
  const segs = path.split('/');
  const walk = (node: unknown, i: number) => {
    if (i === segs.length) {
      if (isMap(node)) visit(node);
      return;
    }
    if (!isMap(node)) return;
    const many = segs[i].endsWith('[]');
    const key = many ? segs[i].slice(0, -2) : segs[i];
    let next: unknown = node.get(key, true);
    if (many) {
      if (isSeq(next)) for (const el of next.items) walk(el, i + 1);
      return;
    }
    if ((next === undefined || next === null || (isScalar(next) && next.value === null)) && create) {
      next = doc.createNode({});
      node.set(key, next);
    }
    walk(next, i + 1);
  };
  walk(doc.contents, 0);
}

/** Sets each key to its value in the map, keeping keys already there in place. */
export function setAll(doc: Document, map: YAMLMap, values: Record<string, string>): boolean {
  let changed = false;
  for (const [k, v] of Object.entries(values)) {
    const cur: unknown = map.get(k);
    if (cur === v) continue;
    map.set(k, doc.createNode(v));
    changed = true;
  }
  return changed;
}
