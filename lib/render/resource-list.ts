import YAML, { Document, isMap, isSeq, YAMLSeq, type Node } from 'yaml';
import { keepFormat } from './keep-format.ts';
import { insidePackage } from './pipeline-spec.ts';
import type { FunctionResultItem, KrmItem, Severity } from './types.ts';
import { FunctionFailure } from './runtime.ts';

// The ResourceList protocol (config.kubernetes.io/v1): each item carries the file it comes from and
// its place in that file as annotations, in the internal and the legacy spelling. A function may move
// a resource by changing either; new resources without them get kpt's default file name.

export const PATH = 'internal.config.kubernetes.io/path';
export const INDEX = 'internal.config.kubernetes.io/index';
export const LEGACY_PATH = 'config.kubernetes.io/path';
export const LEGACY_INDEX = 'config.kubernetes.io/index';
/** Which input item an output item was, to tell which spelling of its path a function changed. */
const ID = 'internal.config.kubernetes.io/id';
/** Bookkeeping kpt adds to items; a function may echo it back, it is never written to a file. */
const BOOKKEEPING = [PATH, INDEX, LEGACY_PATH, LEGACY_INDEX, 'internal.config.kubernetes.io/id', 'config.k8s.io/id', 'internal.config.kubernetes.io/seqindent', 'internal.config.kubernetes.io/package-path', 'internal.config.kubernetes.io/annotations-migration-resource-id'];

function relativeTo(pkg: string, path: string): string {
  return pkg ? path.slice(pkg.length + 1) : path;
}

/** A copy of the item's document carrying its path (relative to the package `pkg`) and index. */
export function annotate(item: KrmItem, pkg: string, id: number): Document {
  const doc = item.doc.clone();
  doc.setIn(['metadata', 'annotations', ID], String(id));
  const path = relativeTo(pkg, item.path ?? '');
  const index = String(item.index ?? 0);
  doc.setIn(['metadata', 'annotations', PATH], path);
  doc.setIn(['metadata', 'annotations', INDEX], index);
  doc.setIn(['metadata', 'annotations', LEGACY_PATH], path);
  doc.setIn(['metadata', 'annotations', LEGACY_INDEX], index);
  return doc;
}

function annotation(doc: Document, key: string): string | undefined {
  const v: unknown = doc.getIn(['metadata', 'annotations', key]);
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}

/** Which of two spellings the function changed: a change to either wins over the value sent. */
function changed(internal: string | undefined, legacy: string | undefined, sent: string | undefined): string | undefined {
  if (internal !== undefined && internal !== sent) return internal;
  if (legacy !== undefined && legacy !== sent) return legacy;
  return internal ?? legacy;
}

export function defaultPath(doc: Document): string {
  const kind = String(doc.get('kind') ?? '').toLowerCase();
  const name = String(doc.getIn(['metadata', 'name']) ?? '');
  const ns: unknown = doc.getIn(['metadata', 'namespace']);
  return `${typeof ns === 'string' && ns ? `${ns}/` : ''}${kind}_${name}.yaml`;
}

/**
 * A function's output item back as a package item: the annotations removed, its path made relative
 * to the root package again. `sent` are the items the function received, by id.
 */
export function unannotate(doc: Document, pkg: string, sentItems: readonly KrmItem[]): KrmItem {
  const id = annotation(doc, ID);
  const from = id !== undefined && /^\d+$/.test(id) ? sentItems[Number(id)] : undefined;
  const sent = from ? { path: relativeTo(pkg, from.path ?? ''), index: String(from.index ?? 0) } : undefined;
  if (from && from.doc !== doc) keepFormat(from.doc, doc);
  const path = changed(annotation(doc, PATH), annotation(doc, LEGACY_PATH), sent?.path);
  const index = changed(annotation(doc, INDEX), annotation(doc, LEGACY_INDEX), sent?.index);
  for (const key of BOOKKEEPING) if (doc.hasIn(['metadata', 'annotations', key])) doc.deleteIn(['metadata', 'annotations', key]);
  const anns = doc.getIn(['metadata', 'annotations'], true);
  if (isMap(anns) && anns.items.length === 0) doc.deleteIn(['metadata', 'annotations']);
  const rel = path ?? defaultPath(doc);
  if (!insidePackage(rel)) throw new FunctionFailure(`function set a path outside the package: ${rel}`);
  const item: KrmItem = { doc, path: pkg ? `${pkg}/${rel}` : rel };
  if (index !== undefined && /^\d+$/.test(index)) item.index = Number(index);
  return item;
}

/** The ResourceList a process or the function runner reads, as YAML. */
export function encodeResourceList(items: readonly Document[], functionConfig?: Document): string {
  const rl = new Document({ apiVersion: 'config.kubernetes.io/v1', kind: 'ResourceList' });
  const seq = new YAMLSeq<Node>();
  for (const d of items) if (d.contents) seq.items.push(d.contents);
  rl.set('items', seq);
  if (functionConfig?.contents) rl.set('functionConfig', functionConfig.contents);
  return rl.toString({ lineWidth: 0 });
}

const SEVERITIES = new Set<Severity>(['error', 'warning', 'info']);

function resultsOf(v: unknown): FunctionResultItem[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((r: unknown) => {
    if (r === null || typeof r !== 'object') return [];
    const o = r as Record<string, unknown>;
    const item: FunctionResultItem = { message: typeof o.message === 'string' ? o.message : '' };
    if (typeof o.severity === 'string' && SEVERITIES.has(o.severity as Severity)) item.severity = o.severity as Severity;
    for (const k of ['resourceRef', 'field', 'file', 'tags'] as const) if (o[k] && typeof o[k] === 'object') Object.assign(item, { [k]: o[k] });
    return [item];
  });
}

/** Items and results of a function's output; anything but a ResourceList is the function's failure. */
export function decodeResourceList(text: string): { items: Document[]; results: FunctionResultItem[] } {
  const rl = YAML.parseDocument(text, { uniqueKeys: false });
  if (rl.errors.length) throw new FunctionFailure(`function output is not valid YAML: ${rl.errors[0].message.split('\n')[0]}`);
  if (!isMap(rl.contents) || rl.get('kind') !== 'ResourceList') throw new FunctionFailure('function output is not a ResourceList');
  const seq = rl.get('items', true);
  const items: Document[] = [];
  if (isSeq(seq)) {
    for (const node of seq.items) {
      const d = new Document();
      d.contents = node as Node;
      items.push(d);
    }
  }
  const results = resultsOf(rl.toJS().results as unknown);
  return { items, results };
}
