import YAML, { isMap, type Document } from 'yaml';

// A package cloned into a deployment repository (Repository spec.deployment) gets its context
// regenerated, as Porch does with kpt's builtin package-context generator: every ConfigMap
// `kptfile.kpt.dev` the upstream had is dropped, and package-context.yaml is written anew naming
// the package (the Kptfile's name) and its path in the repository.

export const CONTEXT_FILE = 'package-context.yaml';
const CONTEXT_NAME = 'kptfile.kpt.dev';

function isContextDoc(doc: Document): boolean {
  let value: unknown;
  try {
    value = doc.toJS();
  } catch {
    return false;
  }
  if (typeof value !== 'object' || value === null) return false;
  const o = value as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } };
  return o.apiVersion === 'v1' && o.kind === 'ConfigMap' && o.metadata?.name === CONTEXT_NAME;
}

function isYamlFile(path: string): boolean {
  return /\.ya?ml$/.test(path.slice(path.lastIndexOf('/') + 1));
}

/** Remove the context ConfigMaps from one file; undefined when nothing else was in it. */
function withoutContext(text: string): string | undefined {
  const docs = YAML.parseAllDocuments(text);
  if (!Array.isArray(docs) || docs.some((d) => d.errors.length)) return text;
  const kept = docs.filter((d) => !isContextDoc(d));
  if (kept.length === docs.length) return text;
  if (!kept.some((d) => d.contents !== null)) return undefined;
  return kept
    .map((d, i) => {
      if (i > 0 && d.directives) d.directives.docStart = true;
      return d.toString({ lineWidth: 0 });
    })
    .join('');
}

function contextText(packageName: string, packagePath: string): string {
  return [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    `  name: ${CONTEXT_NAME}`,
    '  annotations:',
    '    config.kubernetes.io/local-config: "true"',
    'data:',
    `  name: ${YAML.stringify(packageName).trimEnd()}`,
    `  package-path: ${YAML.stringify(packagePath).trimEnd()}`,
    '',
  ].join('\n');
}

/** The package's files with a fresh package context for `packagePath` (the new package's path). */
export function withDeploymentContext(files: Record<string, string>, packagePath: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, text] of Object.entries(files)) {
    if (!isYamlFile(path)) {
      out[path] = text;
      continue;
    }
    const rest = withoutContext(text);
    if (rest !== undefined) out[path] = rest;
  }
  const kptfile = YAML.parseDocument(files.Kptfile ?? '');
  const name = isMap(kptfile.contents) ? kptfile.getIn(['metadata', 'name']) : undefined;
  out[CONTEXT_FILE] = contextText(typeof name === 'string' && name ? name : (packagePath.split('/').pop() ?? packagePath), packagePath);
  return out;
}
