import YAML, { isCollection, isMap, isPair, isScalar, isSeq, Scalar, type Document, type Node, type Pair } from 'yaml';
import { FunctionFailure } from '../runtime.ts';
import type { FunctionResultItem } from '../types.ts';
import { str } from './objects.ts';
import type { BuiltinFunction } from './registry-types.ts';

// apply-setters v0.2: fields carrying a `# kpt-set: PATTERN` line comment get PATTERN with each
// ${setter} replaced by the config's value. Setters the config does not give keep the value they
// have now (read back from the field through the pattern); a list field takes a YAML list value.

const SETTER = /\$\{([^}]+)\}/g;

function patternOf(comment: string | null | undefined): string | undefined {
  const m = comment ? /^\s*kpt-set:\s*(.*?)\s*$/.exec(comment) : null;
  return m ? m[1] : undefined;
}

function mentions(pattern: string, setters: Record<string, string>): boolean {
  return Object.keys(setters).some((k) => pattern.includes(`\${${k}}`));
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Values of the pattern's setters as the current value holds them. */
function current(pattern: string, value: string): Record<string, string> {
  const names = [...pattern.matchAll(SETTER)].map((m) => m[1]);
  const re = new RegExp(pattern.split(/\$\{[^}]+\}/).map(escape).join('(.*)'));
  const m = re.exec(value);
  if (!m || m.length - 1 !== names.length || m.slice(1).some((v) => v === '')) return {};
  return Object.fromEntries(names.map((n, i) => [n, m[i + 1]]));
}

function setScalar(node: Scalar, pattern: string, setters: Record<string, string>): string {
  const have = current(pattern, String(node.value ?? ''));
  const value = pattern.replace(SETTER, (whole, name: string) => setters[name] ?? have[name] ?? whole);
  const missing = [...value.matchAll(SETTER)].map((m) => m[0]);
  if (missing.length) throw new FunctionFailure(`values for setters [${missing.join(' ')}] must be provided`);
  // The catalog function writes the text untagged, so `3` reads back as a number: keep that reading.
  const plain: unknown = value === '' ? '' : YAML.parse(value);
  node.value = (typeof plain === 'number' || typeof plain === 'boolean') && String(plain) === value ? plain : value;
  if (value === '') node.type = Scalar.QUOTE_DOUBLE;
  return value;
}

function setList(pair: Pair, pattern: string, setters: Record<string, string>, doc: Document): string {
  if (!/^\$\{[^}]+\}$/.test(pattern)) throw new FunctionFailure(`invalid setter pattern for array node: "${pattern}"`);
  const value = setters[pattern.slice(2, -1)];
  const seq = pair.value as Node;
  if (value === '') {
    const empty = doc.createNode([]);
    empty.flow = true;
    empty.comment = (pair.key as Scalar).comment ?? seq.comment;
    (pair.key as Scalar).comment = undefined;
    pair.value = empty;
    return value;
  }
  const parsed = YAML.parseDocument(value);
  if (parsed.errors.length || !isSeq(parsed.contents)) throw new FunctionFailure(`input to array setter must be an array of values, but found "${value}"`);
  const list = parsed.contents;
  list.flow = false;
  if (isSeq(seq) && seq.flow) {
    // A flow list holds its setter comment itself; the block list carries it on the key's line.
    (pair.key as Scalar).comment = seq.comment;
  }
  pair.value = list;
  return value;
}

export const applySetters: BuiltinFunction = (items, config, paths) => {
  const setters: Record<string, string> = {};
  const data: unknown = config?.contents ? config.get('data', true) : undefined;
  if (isMap(data)) for (const p of data.items) setters[isScalar(p.key) ? String(p.key.value) : ''] = isScalar(p.value) && p.value.value !== null ? String(p.value.value) : '';
  const results: FunctionResultItem[] = [];
  for (const [i, doc] of items.entries()) {
    const file = paths?.[i] ?? str(doc, ['metadata', 'annotations', 'internal.config.kubernetes.io/path']);
    const record = (path: string, value: string) => results.push({ message: `set field value to "${value}"`, field: { path }, ...(file ? { file: { path: file } } : {}) });
    const fieldPath = (path: readonly unknown[]) =>
      path
        .filter(isPair)
        .map((p) => (isScalar(p.key) ? String(p.key.value) : ''))
        .join('.');
    YAML.visit(doc, {
      Pair(_, pair, path) {
        if (!isScalar(pair.key) || !isCollection(pair.value)) return;
        const pattern = patternOf(isSeq(pair.value) && pair.value.flow ? pair.value.comment : pair.key.comment ?? pair.value.commentBefore);
        if (!pattern || !isSeq(pair.value) || !mentions(pattern, setters)) return;
        record(fieldPath([...path, pair]), setList(pair, pattern, setters, doc));
        return YAML.visit.SKIP;
      },
      Scalar(key, node, path) {
        if (key === 'key') return;
        const pattern = patternOf(node.comment);
        if (!pattern || !mentions(pattern, setters)) return;
        record(fieldPath(path), setScalar(node, pattern, setters));
      },
    });
  }
  if (!results.length) results.push({ message: 'no matches for input setter(s)' });
  return results;
};
