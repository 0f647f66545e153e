import type { Document } from 'yaml';
import type { FunctionSpec, Selector } from './pipeline-spec.ts';

function subset(want: Record<string, string> | undefined, have: unknown): boolean {
  if (!want) return true;
  const h = have !== null && typeof have === 'object' ? (have as Record<string, unknown>) : {};
  return Object.entries(want).every(([k, v]) => h[k] === v);
}

/** Every field a selector sets must match (kpt's selector semantics). */
export function matches(doc: Document, sel: Selector): boolean {
  if (sel.apiVersion !== undefined && doc.get('apiVersion') !== sel.apiVersion) return false;
  if (sel.kind !== undefined && doc.get('kind') !== sel.kind) return false;
  if (sel.name !== undefined && doc.getIn(['metadata', 'name']) !== sel.name) return false;
  if (sel.namespace !== undefined && (doc.getIn(['metadata', 'namespace']) ?? '') !== sel.namespace) return false;
  if (!subset(sel.labels, toPlain(doc.getIn(['metadata', 'labels'], true)))) return false;
  return subset(sel.annotations, toPlain(doc.getIn(['metadata', 'annotations'], true)));
}

function toPlain(node: unknown): unknown {
  return node !== null && typeof node === 'object' && 'toJSON' in node && typeof node.toJSON === 'function' ? (node.toJSON as () => unknown)() : undefined;
}

/** A function sees the resources any selector picks (all when there is none), minus any excluded. */
export function selected(doc: Document, fn: FunctionSpec): boolean {
  if (fn.selectors.length && !fn.selectors.some((s) => matches(doc, s))) return false;
  return !fn.exclude.some((s) => matches(doc, s));
}
