import YAML, { isScalar, LineCounter, YAMLParseError, type Document, type EmptyStream, type Node } from 'yaml';

// yaml's own duplicate-key check compares each key with every earlier key of its map: parsing a map
// of n keys is O(n²), and one 40,000-key ConfigMap holds the event loop for about 17 s. These parse
// without that check and then look for duplicates with one set per map: the same documents, and a
// duplicate key is the same DUPLICATE_KEY error at the same line and column.

const FAST = { uniqueKeys: false } as const;

/** The key's identity as yaml's check compares keys: scalars by value, anything else never equal. */
function keyOf(key: unknown): { value: unknown } | undefined {
  if (!isScalar(key)) return undefined;
  return typeof key.value === 'number' && Number.isNaN(key.value) ? undefined : { value: key.value };
}

/** The message yaml gives: the place, then the line with a caret under the key. */
function message(text: string, lines: LineCounter, at: number): string {
  const { line, col } = lines.linePos(at);
  const start = lines.lineStarts[line - 1];
  const end = text.indexOf('\n', start);
  const source = text.slice(start, end < 0 ? undefined : end).replace(/\r$/, '').slice(0, 200);
  return `Map keys must be unique at line ${line}, column ${col}:\n\n${source}\n${' '.repeat(col - 1)}^\n`;
}

function duplicateKeys(text: string, doc: Document, lines: LineCounter): YAMLParseError[] {
  const found: YAMLParseError[] = [];
  YAML.visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const id = keyOf(pair.key);
        if (id === undefined) continue;
        if (!seen.has(id.value)) {
          seen.add(id.value);
          continue;
        }
        const at = (pair.key as Node).range?.[0] ?? 0;
        found.push(new YAMLParseError([at, at + 1], 'DUPLICATE_KEY', message(text, lines, at)));
      }
    },
  });
  return found;
}

/** Errors in source order, as yaml reports them while composing. */
function addErrors(doc: Document, extra: YAMLParseError[]): void {
  for (const err of extra) {
    const at = doc.errors.findIndex((e) => e.pos[0] > err.pos[0]);
    if (at < 0) doc.errors.push(err);
    else doc.errors.splice(at, 0, err);
  }
  // Later edits of the document behave as on one parsed with yaml's defaults.
  doc.options.uniqueKeys = true;
}

/** YAML.parseAllDocuments in linear time for large maps. */
export function parseAllDocuments(text: string): Document[] | EmptyStream {
  const lineCounter = new LineCounter();
  const docs = YAML.parseAllDocuments(text, { ...FAST, lineCounter });
  if (!Array.isArray(docs)) return docs;
  for (const doc of docs as Document[]) addErrors(doc, duplicateKeys(text, doc, lineCounter));
  return docs;
}

/** YAML.parseDocument in linear time for large maps. */
export function parseDocument(text: string): Document {
  const lineCounter = new LineCounter();
  const doc = YAML.parseDocument(text, { ...FAST, lineCounter }) as Document;
  addErrors(doc, duplicateKeys(text, doc, lineCounter));
  return doc;
}
