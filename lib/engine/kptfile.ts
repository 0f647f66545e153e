import YAML from 'yaml';
import { isRecord } from '../util.ts';

export interface KptfileInfo {
  upstream?: Record<string, unknown>;
  upstreamLock?: Record<string, unknown>;
  readinessGates?: { conditionType: string }[];
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Pulls out of a Kptfile what a PackageRevision shows; a broken Kptfile yields nothing, not an error. */
export function readKptfile(text: string): KptfileInfo {
  if (!text) return {};
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch {
    return {};
  }
  if (!isRecord(doc)) return {};
  const info: KptfileInfo = {};
  if (isRecord(doc.upstream)) info.upstream = doc.upstream;
  if (isRecord(doc.upstreamLock)) info.upstreamLock = doc.upstreamLock;
  const meta = isRecord(doc.metadata) ? doc.metadata : {};
  if (isRecord(meta.labels)) info.labels = meta.labels as Record<string, string>;
  if (isRecord(meta.annotations)) info.annotations = meta.annotations as Record<string, string>;
  const gates = isRecord(doc.info) && Array.isArray(doc.info.readinessGates) ? doc.info.readinessGates : undefined;
  if (gates) info.readinessGates = gates.filter(isRecord).map((g) => ({ conditionType: String(g.conditionType ?? '') }));
  const conds = isRecord(doc.status) && Array.isArray(doc.status.conditions) ? doc.status.conditions : undefined;
  if (conds)
    info.conditions = conds.filter(isRecord).map((c) => ({
      type: String(c.type ?? ''),
      status: String(c.status ?? ''),
      ...(c.reason !== undefined ? { reason: String(c.reason) } : {}),
      ...(c.message !== undefined ? { message: String(c.message) } : {}),
    }));
  return info;
}

/** Why a Kptfile cannot be accepted, or undefined when it is a valid kpt.dev/v1 Kptfile. */
export function kptfileProblem(text: string | undefined): string | undefined {
  if (text === undefined) return 'the package must contain a Kptfile';
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    return `the Kptfile is not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
  }
  if (!isRecord(doc)) return 'the Kptfile must be a YAML object';
  if (doc.apiVersion !== 'kpt.dev/v1') return `the Kptfile must have apiVersion kpt.dev/v1 (got ${JSON.stringify(doc.apiVersion)})`;
  if (doc.kind !== 'Kptfile') return `the Kptfile must have kind Kptfile (got ${JSON.stringify(doc.kind)})`;
  if (!isRecord(doc.metadata) || typeof doc.metadata.name !== 'string' || !doc.metadata.name) return 'the Kptfile must have metadata.name';
  return undefined;
}

export interface InitOptions {
  description?: string;
  keywords?: string[];
  site?: string;
}

/** The files `kpt pkg init` writes for a new package. */
export function initPackage(name: string, opts: InitOptions): Record<string, string> {
  const info: Record<string, unknown> = {};
  if (opts.site) info.site = opts.site;
  if (opts.description) info.description = opts.description;
  if (opts.keywords?.length) info.keywords = opts.keywords;
  const kptfile: Record<string, unknown> = {
    apiVersion: 'kpt.dev/v1',
    kind: 'Kptfile',
    metadata: { name, annotations: { 'config.kubernetes.io/local-config': 'true' } },
  };
  if (Object.keys(info).length) kptfile.info = info;
  const readme = [
    `# ${name}`,
    '',
    '## Description',
    opts.description ?? `${name} description`,
    '',
    '## Usage',
    '',
    '### Fetch the package',
    `\`kpt pkg get REPO_URI[.git]/PKG_PATH[@VERSION] ${name}\``,
    'Details: https://kpt.dev/reference/cli/pkg/get/',
    '',
    '### View package content',
    `\`kpt pkg tree ${name}\``,
    'Details: https://kpt.dev/reference/cli/pkg/tree/',
    '',
    '### Apply the package',
    '```',
    `kpt live init ${name}`,
    `kpt live apply ${name} --reconcile-timeout=2m --output=table`,
    '```',
    'Details: https://kpt.dev/reference/cli/live/',
    '',
  ].join('\n');
  const context = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'kptfile.kpt.dev', annotations: { 'config.kubernetes.io/local-config': 'true' } },
    // kpt pkg init writes this placeholder; functions that need the real name read it from the Kptfile.
    data: { name: 'example' },
  };
  return {
    Kptfile: YAML.stringify(kptfile),
    'README.md': readme,
    'package-context.yaml': YAML.stringify(context),
  };
}

/**
 * Write what a Draft's PackageRevision says into its Kptfile (packageMetadata, readinessGates,
 * conditions), keeping everything else of the file as it was.
 */
export function updateKptfile(
  text: string,
  changes: { readinessGates?: { conditionType: string }[] | null; conditions?: { type: string; status: string; reason?: string; message?: string }[] | null },
): string {
  const doc = YAML.parseDocument(text);
  if (changes.readinessGates !== undefined) {
    if (changes.readinessGates && changes.readinessGates.length) doc.setIn(['info', 'readinessGates'], changes.readinessGates);
    else if (doc.hasIn(['info', 'readinessGates'])) doc.deleteIn(['info', 'readinessGates']);
  }
  if (changes.conditions !== undefined) {
    if (changes.conditions && changes.conditions.length) doc.setIn(['status', 'conditions'], changes.conditions);
    else if (doc.hasIn(['status', 'conditions'])) doc.deleteIn(['status', 'conditions']);
  }
  return doc.toString();
}
