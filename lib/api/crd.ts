import { stringify } from 'yaml';
import { REPOSITORY_OVERLAY, type CrdOverlay } from './crd-rules.ts';
import { structuralProblems } from './crd-structural.ts';
import { componentSchemas, resourceSchemaName, type Json, type JsonObject } from './openapi.ts';
import { CONFIG_GROUP } from './repository.ts';
import { RESOURCES, type ResourceDescriptor } from './resources.ts';

// CustomResourceDefinitions for the config.porch.kpt.dev kinds, which kube-apiserver serves in a
// cluster. The schemas are the ones /openapi/v3 serves on the dev server (lib/api/openapi.ts, made
// from the valibot schemas that validate writes), reshaped into what a CRD allows; names, scope,
// subresources and printer columns come from the same resource descriptors as dev discovery.

const OVERLAYS: Record<string, CrdOverlay> = { repositories: REPOSITORY_OVERLAY };

const GVK_EXTENSION = 'x-kubernetes-group-version-kind';
const REF_PREFIX = '#/components/schemas/';

function isObject(value: Json | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function clone<T extends Json>(value: T): T {
  return structuredClone(value);
}

/** The kinds kube-apiserver serves from CRDs in cluster mode. */
export function crdResources(): ResourceDescriptor[] {
  return RESOURCES.filter((r) => r.group === CONFIG_GROUP);
}

export function crdName(res: Pick<ResourceDescriptor, 'plural' | 'group'>): string {
  return `${res.plural}.${res.group}`;
}

/** References replaced by the schemas they name: a CRD schema must be self-contained. */
function inlineRefs(node: Json, schemas: Readonly<Record<string, JsonObject>>, seen: readonly string[]): Json {
  if (Array.isArray(node)) return node.map((n) => inlineRefs(n, schemas, seen));
  if (!isObject(node)) return node;
  const ref = node.$ref;
  if (typeof ref === 'string') {
    const name = ref.startsWith(REF_PREFIX) ? ref.slice(REF_PREFIX.length) : ref;
    const target = schemas[name];
    if (!target) throw new Error(`schema reference ${ref} names no component schema`);
    if (seen.includes(name)) throw new Error(`schema ${name} refers to itself; a CRD schema cannot be recursive`);
    return inlineRefs(clone(target), schemas, [...seen, name]);
  }
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === GVK_EXTENSION) continue;
    out[key] = inlineRefs(value, schemas, seen);
  }
  return out;
}

function setDefault(root: JsonObject, path: readonly string[], value: Json): void {
  let node: JsonObject = root;
  for (const key of path) {
    const props = node.properties;
    const next = isObject(props) ? props[key] : undefined;
    if (!isObject(next)) throw new Error(`default for ${path.join('.')}: the schema has no field ${key}`);
    node = next;
  }
  node.default = value;
}

/** The openAPIV3Schema of a resource's CRD: structural, with the resource's CEL rules and defaults. */
export function crdSchema(res: ResourceDescriptor): JsonObject {
  const schemas = componentSchemas();
  const source = schemas[resourceSchemaName(res)];
  if (!source) throw new Error(`no OpenAPI schema for ${res.kind}`);
  const root = clone(source);
  const props = root.properties;
  if (!isObject(props)) throw new Error(`${res.kind}: the schema declares no fields`);
  // kube-apiserver owns metadata; a CRD may say no more about it than that it is an object.
  props.metadata = { type: 'object' };
  if (Array.isArray(root.required)) {
    const required = root.required.filter((r) => r !== 'metadata');
    if (required.length) root.required = required;
    else delete root.required;
  }
  const schema = inlineRefs(root, schemas, [resourceSchemaName(res)]);
  if (!isObject(schema)) throw new Error(`${res.kind}: the schema is not an object`);

  const overlay = OVERLAYS[res.plural];
  if (overlay) {
    for (const d of overlay.defaults) setDefault(schema, d.path, d.value);
    if (overlay.rules.length)
      schema['x-kubernetes-validations'] = overlay.rules.map((r) => ({ rule: r.rule, message: r.message, ...(r.fieldPath ? { fieldPath: r.fieldPath } : {}) }));
  }

  const problems = structuralProblems(schema);
  if (problems.length) throw new Error(`the ${res.kind} CRD schema is not structural:\n  ${problems.join('\n  ')}`);
  return schema;
}

/** additionalPrinterColumns: the server's table columns for the kind, by the JSONPaths they declare. */
export function printerColumns(res: ResourceDescriptor): JsonObject[] {
  if (res.backend !== 'store') throw new Error(`${res.kind} is not served from a store and has no CRD`);
  // Without columns kube-apiserver shows Name and Age by itself, as lib/api/table.ts does.
  if (res.printerColumns.length === 0) return [];
  const columns: JsonObject[] = res.printerColumns.map((c) => {
    if (!c.jsonPath) throw new Error(`${res.kind} column ${c.name} has no jsonPath for its CRD`);
    const col: JsonObject = { name: c.name, type: c.type, jsonPath: c.jsonPath };
    if (c.description) col.description = c.description;
    if (c.priority) col.priority = c.priority;
    return col;
  });
  // Declared columns replace kube-apiserver's defaults, so the Age column the table has is declared too.
  columns.push({ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' });
  return columns;
}

export function customResourceDefinition(res: ResourceDescriptor): JsonObject {
  const names: JsonObject = { kind: res.kind, listKind: res.listKind, plural: res.plural, singular: res.singular };
  if (res.shortNames.length) names.shortNames = [...res.shortNames];
  if (res.categories.length) names.categories = [...res.categories];
  const version: JsonObject = { name: res.version, served: true, storage: true };
  const columns = printerColumns(res);
  if (columns.length) version.additionalPrinterColumns = columns;
  if (res.subresources.some((s) => s.name === 'status')) version.subresources = { status: {} };
  version.schema = { openAPIV3Schema: crdSchema(res) };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crdName(res), labels: { 'app.kubernetes.io/part-of': 'porch-ts' } },
    spec: { group: res.group, names, scope: res.namespaced ? 'Namespaced' : 'Cluster', versions: [version] },
  };
}

export interface GeneratedFile {
  /** Path relative to infra/. */
  path: string;
  content: string;
}

const HEADER = [
  '# Generated by `npm run gen:infra` (scripts/gen-infra.ts) from the schemas in lib/api. Do not edit:',
  '# tests/unit/crd.test.ts fails when this file differs from what the generator writes.',
].join('\n');

/** infra/crds/*.yaml as the generator writes them. */
export function crdFiles(): GeneratedFile[] {
  return crdResources().map((res) => ({
    path: `crds/${res.group}_${res.plural}.yaml`,
    content: `${HEADER}\n${stringify(customResourceDefinition(res), { lineWidth: 0 })}`,
  }));
}
