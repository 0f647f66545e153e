import YAML, { type Document } from 'yaml';
import { isRecord } from '../util.ts';

// A package's files as KRM resources: each YAML file split into documents, each document that is a
// resource (apiVersion, kind, metadata.name) known by its identity — group, kind, namespace and name,
// as kpt matches resources between an upstream and a local package, whatever file they are in.

export interface ResourceDoc {
  id: string;
  file: string;
  index: number;
  doc: Document;
  value: unknown;
}

export function isYamlFile(path: string): boolean {
  return /\.ya?ml$/i.test(path);
}

export function resourceId(value: unknown): string | undefined {
  if (!isRecord(value) || typeof value.apiVersion !== 'string' || typeof value.kind !== 'string') return undefined;
  const meta = isRecord(value.metadata) ? value.metadata : {};
  if (typeof meta.name !== 'string') return undefined;
  const group = value.apiVersion.includes('/') ? value.apiVersion.split('/')[0] : '';
  return `${group}|${value.kind}|${typeof meta.namespace === 'string' ? meta.namespace : ''}|${meta.name}`;
}

/** The documents of a YAML file; undefined when it does not parse (it is then merged as a plain file). */
export function parseDocs(text: string): Document[] | undefined {
  const docs = YAML.parseAllDocuments(text, { keepSourceTokens: false });
  if (!Array.isArray(docs) || docs.some((d) => d.errors.length)) return undefined;
  return docs;
}

/** Resources of a package by identity; files that are not YAML resources are left out. */
export function indexResources(files: Record<string, string>): Map<string, ResourceDoc> {
  const out = new Map<string, ResourceDoc>();
  for (const [file, text] of Object.entries(files)) {
    if (!isYamlFile(file)) continue;
    const docs = parseDocs(text);
    if (!docs) continue;
    docs.forEach((doc, index) => {
      const value = doc.toJS() as unknown;
      const id = resourceId(value);
      if (id && !out.has(id)) out.set(id, { id, file, index, doc, value });
    });
  }
  return out;
}

/** A file whose documents are all resources (or empty): merged resource by resource. */
export function isResourceFile(path: string, text: string | undefined): boolean {
  if (text === undefined || !isYamlFile(path)) return false;
  const docs = parseDocs(text);
  return docs !== undefined && docs.every((d) => d.contents === null || resourceId(d.toJS()) !== undefined);
}

export function renderDocs(docs: Document[]): string {
  return docs
    .map((d, i) => {
      const text = d.toString();
      // A document parsed after a "---" keeps its marker; one added here needs one.
      return i === 0 || text.startsWith('---') ? text : `---\n${text}`;
    })
    .join('');
}
