import { isMap, isScalar, isSeq, type Document, type Node, type YAMLMap } from 'yaml';
import { FunctionFailure } from '../runtime.ts';
import { gvk, str } from './objects.ts';
import type { BuiltinFunction } from './registry-types.ts';

// apply-replacements v0.1: kustomize's `replacements` — copy the value at a source resource's
// fieldPath into fieldPaths of the selected targets, optionally one part of a delimited string.
// Field paths are dot-separated; `[key=value]` picks a list element by a field, `*` every element,
// a number the element at that index.

interface Select {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  labelSelector?: string;
  annotationSelector?: string;
}

interface Options {
  delimiter?: string;
  index?: number;
  create?: boolean;
}

interface Replacement {
  source?: Select & { fieldPath?: string; options?: Options };
  targets?: { select?: Select; reject?: Select[]; fieldPaths?: string[]; options?: Options }[];
}

/** Segments of a field path; dots inside `[...]` belong to the segment. */
export function splitPath(path: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  for (const c of path) {
    if (c === '[') depth++;
    if (c === ']') depth--;
    if (c === '.' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.filter((s) => s !== '');
}

function fullMatch(pattern: string | undefined, value: string): boolean {
  if (pattern === undefined || pattern === '') return true;
  try {
    return new RegExp(`^(?:${pattern})$`).test(value);
  } catch {
    return pattern === value;
  }
}

function mapSelector(selector: string | undefined, have: unknown): boolean {
  if (!selector) return true;
  const m = have && typeof have === 'object' ? (have as Record<string, unknown>) : {};
  return selector.split(',').every((term) => {
    const [k, v] = term.split(/!?=/).map((s) => s.trim());
    if (v === undefined) return k in m;
    return term.includes('!=') ? m[k] !== v : m[k] === v;
  });
}

function selects(doc: Document, s: Select): boolean {
  const { group, version, kind } = gvk(doc);
  const js = doc.toJS() as { metadata?: { labels?: unknown; annotations?: unknown } };
  return (
    fullMatch(s.group, group) &&
    fullMatch(s.version, version) &&
    fullMatch(s.kind, kind) &&
    fullMatch(s.name, str(doc, ['metadata', 'name']) ?? '') &&
    fullMatch(s.namespace, str(doc, ['metadata', 'namespace']) ?? '') &&
    mapSelector(s.labelSelector, js.metadata?.labels) &&
    mapSelector(s.annotationSelector, js.metadata?.annotations)
  );
}

/** Nodes at the path; with `create`, missing map fields are made on the way (lists are not). */
function lookup(doc: Document, path: string[], create: boolean): { parent: YAMLMap; key: string }[] {
  const found: { parent: YAMLMap; key: string }[] = [];
  const walk = (node: unknown, i: number) => {
    const seg = path[i];
    const last = i === path.length - 1;
    if (isSeq(node)) {
      const pick = /^\[(.+?)=(.*)\]$/.exec(seg);
      const elements = seg === '*' ? node.items : pick ? node.items.filter((el) => isMap(el) && String(el.get(pick[1])) === pick[2]) : /^\d+$/.test(seg) ? [node.items[Number(seg)]] : [];
      if (last) return;
      for (const el of elements) walk(el, i + 1);
      return;
    }
    if (!isMap(node)) return;
    const key = seg.replace(/^\[(.*)\]$/, '$1');
    if (last) {
      if (node.has(key) || create) found.push({ parent: node, key });
      return;
    }
    let next: unknown = node.get(key, true);
    if ((next === undefined || (isScalar(next) && next.value === null)) && create) {
      next = doc.createNode({});
      node.set(key, next);
    }
    walk(next, i + 1);
  };
  walk(doc.contents, 0);
  return found;
}

function part(value: unknown, opts: Options | undefined): unknown {
  if (!opts?.delimiter) return value;
  const parts = String(value).split(opts.delimiter);
  const i = opts.index ?? 0;
  if (i < 0 || i >= parts.length) throw new FunctionFailure(`options.index ${i} is out of bounds for value ${String(value)}`);
  return parts[i];
}

function label(s: Select, fieldPath: string): string {
  return `${[s.kind, s.version, s.group].filter(Boolean).join('.')}${s.name ? `/${s.name}` : ''}${s.namespace ? `.${s.namespace}` : ''}:${fieldPath}`;
}

export const applyReplacements: BuiltinFunction = (items, config) => {
  const js = config?.contents ? (config.toJS() as { kind?: string; replacements?: Replacement[] }) : undefined;
  if (!js || js.kind !== 'ApplyReplacements') throw new FunctionFailure('function config must be an ApplyReplacements object');
  for (const r of js.replacements ?? []) {
    const src = r.source;
    if (!src) throw new FunctionFailure('replacements must specify a source');
    const fieldPath = src.fieldPath ?? 'metadata.name';
    const sources = items.filter((d) => selects(d, src));
    if (sources.length === 0) throw new FunctionFailure(`nothing selected by ${label(src, fieldPath)}`);
    if (sources.length > 1) throw new FunctionFailure(`multiple matches for selector ${label(src, fieldPath)}`);
    const at = lookup(sources[0], splitPath(fieldPath), false)[0];
    if (!at) throw new FunctionFailure(`fieldPath \`${fieldPath}\` is missing for replacement source ${label(src, '')}`.replace(/:$/, ''));
    const node = at.parent.get(at.key, true) as Node;
    const value = part(isScalar(node) ? node.value : node, src.options);
    for (const t of r.targets ?? []) {
      if (!t.select) throw new FunctionFailure('target must specify resources to select');
      const targets = items.filter((d) => selects(d, t.select!) && !(t.reject ?? []).some((rj) => selects(d, rj)));
      for (const doc of targets) {
        for (const fp of t.fieldPaths ?? ['metadata.name']) {
          const spots = lookup(doc, splitPath(fp), t.options?.create === true);
          if (!spots.length && !t.options?.create) throw new FunctionFailure(`unable to find field "${fp}" in replacement target`);
          for (const { parent, key } of spots) {
            if (t.options?.delimiter) {
              const parts = String(parent.get(key) ?? '').split(t.options.delimiter);
              const i = t.options.index ?? 0;
              if (i >= parts.length) parts.push(String(value));
              else if (i < 0) parts.unshift(String(value));
              else parts[i] = String(value);
              parent.set(key, parts.join(t.options.delimiter));
            } else if (isScalar(node) || src.options?.delimiter) {
              const cur = parent.get(key, true);
              if (isScalar(cur)) cur.value = value;
              else parent.set(key, value);
            } else parent.set(key, node.clone());
          }
        }
      }
    }
  }
  return [];
};
