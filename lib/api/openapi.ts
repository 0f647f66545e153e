import { createHash } from 'node:crypto';
import { toJsonSchema, toJsonSchemaDefs, type ConversionConfig } from '@valibot/to-json-schema';
import * as v from 'valibot';
import { ObjectMetaSchema, OwnerReferenceSchema } from './meta.ts';
import { apiVersionOf, groupVersions, RESOURCES, type ResourceDescriptor, type Verb } from './resources.ts';

// OpenAPI documents in the shapes kube-apiserver serves them: kubectl reads /openapi/v3 for `explain`,
// for strategic-merge support and to learn that the server validates fields itself (fieldValidation),
// and /openapi/v2 as a fallback. Everything is derived from the valibot schemas that also validate
// writes, so the documents cannot drift from what the server accepts.

export type Json = string | number | boolean | null | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
export const OBJECT_META = `${META}.ObjectMeta`;
export const LIST_META = `${META}.ListMeta`;
const WRITE_ANSWERS = { 200: 'OK', 201: 'Created', 202: 'Accepted' } as const;
export const STATUS = `${META}.Status`;
export const DELETE_OPTIONS = `${META}.DeleteOptions`;
export const PATCH = `${META}.Patch`;
const OWNER_REFERENCE = `${META}.OwnerReference`;
const STATUS_DETAILS = `${META}.StatusDetails`;
const STATUS_CAUSE = `${META}.StatusCause`;
const PRECONDITIONS = `${META}.Preconditions`;

const GVK_EXTENSION = 'x-kubernetes-group-version-kind';
const ACTION_EXTENSION = 'x-kubernetes-action';
const PRESERVE_UNKNOWN = 'x-kubernetes-preserve-unknown-fields';

const ListMetaSchema = v.pipe(
  v.object({
    resourceVersion: v.optional(v.pipe(v.string(), v.description('Identifies the server internal version of this list, for watches and consistent reads.'))),
    continue: v.optional(v.pipe(v.string(), v.description('Set when more results are available; pass it back to continue the list.'))),
    remainingItemCount: v.optional(v.pipe(v.number(), v.integer(), v.description('Number of items left after this page, when known.'))),
  }),
  v.description('ListMeta describes metadata that synthetic resources must have, including lists.'),
);

const StatusCauseSchema = v.pipe(
  v.object({
    reason: v.optional(v.pipe(v.string(), v.description('A machine-readable description of the cause of the error.'))),
    message: v.optional(v.pipe(v.string(), v.description('A human-readable description of the cause of the error.'))),
    field: v.optional(v.pipe(v.string(), v.description('The field of the resource that caused the error, as a JSON path.'))),
  }),
  v.description('StatusCause provides more information about an api.Status failure.'),
);

const StatusDetailsSchema = v.pipe(
  v.object({
    name: v.optional(v.string()),
    group: v.optional(v.string()),
    kind: v.optional(v.string()),
    uid: v.optional(v.string()),
    causes: v.optional(v.array(StatusCauseSchema)),
    retryAfterSeconds: v.optional(v.pipe(v.number(), v.integer())),
  }),
  v.description('StatusDetails is a set of additional properties that may be set by the server to provide additional information about a response.'),
);

const StatusSchema = v.pipe(
  v.object({
    apiVersion: v.optional(v.string()),
    kind: v.optional(v.string()),
    metadata: v.optional(ListMetaSchema),
    status: v.optional(v.pipe(v.string(), v.description('Status of the operation: "Success" or "Failure".'))),
    message: v.optional(v.pipe(v.string(), v.description('A human-readable description of the status of this operation.'))),
    reason: v.optional(v.pipe(v.string(), v.description('A machine-readable description of why this operation is in the "Failure" status.'))),
    details: v.optional(StatusDetailsSchema),
    code: v.optional(v.pipe(v.number(), v.integer(), v.description('Suggested HTTP return code for this status.'))),
  }),
  v.description('Status is a return value for calls that do not return other objects.'),
);

const PreconditionsSchema = v.pipe(
  v.object({ resourceVersion: v.optional(v.string()), uid: v.optional(v.string()) }),
  v.description('Preconditions must be fulfilled before an operation (update, delete, etc.) is carried out.'),
);

const DeleteOptionsSchema = v.pipe(
  v.object({
    apiVersion: v.optional(v.string()),
    kind: v.optional(v.string()),
    gracePeriodSeconds: v.optional(v.pipe(v.number(), v.integer())),
    preconditions: v.optional(PreconditionsSchema),
    propagationPolicy: v.optional(v.pipe(v.string(), v.description('Whether and how garbage collection will be performed: Orphan, Background or Foreground.'))),
    orphanDependents: v.optional(v.boolean()),
    dryRun: v.optional(v.array(v.string())),
  }),
  v.description('DeleteOptions may be provided when deleting an API object.'),
);

const PatchSchema = v.pipe(v.looseObject({}), v.description('Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.'));

// Shared valibot schemas are emitted once under their Kubernetes names and referenced elsewhere:
// the converter recognises them by identity wherever a resource schema embeds them.
const SHARED: Record<string, v.GenericSchema<unknown, unknown>> = {
  [OBJECT_META]: ObjectMetaSchema,
  [OWNER_REFERENCE]: OwnerReferenceSchema,
  [LIST_META]: ListMetaSchema,
  [STATUS]: StatusSchema,
  [STATUS_DETAILS]: StatusDetailsSchema,
  [STATUS_CAUSE]: StatusCauseSchema,
  [PRECONDITIONS]: PreconditionsSchema,
  [DELETE_OPTIONS]: DeleteOptionsSchema,
  [PATCH]: PatchSchema,
};

const CONVERSION: ConversionConfig = {
  target: 'openapi-3.0',
  // Refinements with no JSON Schema equivalent (custom checks) only tighten validation; the
  // documents describe shapes, so they are left out rather than failing the conversion.
  errorMode: 'ignore',
  // A loose object keeps keys it does not declare; plain objects drop them. JSON Schema output
  // looks the same for both, so the difference is marked here and turned into the Kubernetes
  // extension by normalise().
  overrideSchema: (ctx) => (ctx.valibotSchema.type === 'loose_object' ? { ...ctx.jsonSchema, additionalProperties: true } : undefined),
};

const STANDARD_FIELD_DOCS: Record<string, string> = {
  apiVersion:
    'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.',
  kind: 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. In CamelCase.',
};

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The converter's output as plain JSON in OpenAPI 3.0 form, with component references. */
function normalise(value: unknown): Json {
  if (Array.isArray(value)) return value.map(normalise);
  if (!isObject(value)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
    return null;
  }
  const out: JsonObject = {};
  for (const [key, raw] of Object.entries(value)) {
    if (raw === undefined || key === '$defs') continue;
    if (key === '$ref' && typeof raw === 'string') {
      out.$ref = raw.replace(/^#\/\$defs\//, '#/components/schemas/');
      continue;
    }
    // OpenAPI 3.0 forbids an empty `required`; the converter emits one for all-optional objects.
    if (key === 'required' && Array.isArray(raw) && raw.length === 0) continue;
    if (key === 'additionalProperties' && raw === true) {
      out[PRESERVE_UNKNOWN] = true;
      continue;
    }
    // Kubernetes spells base64 content as format "byte", which is what kubectl explain recognises.
    if (key === 'contentEncoding' && raw === 'base64') {
      out.format = 'byte';
      continue;
    }
    out[key] = normalise(raw);
  }
  if (out[PRESERVE_UNKNOWN] === true && isObject(out.properties) && Object.keys(out.properties).length === 0) delete out.properties;
  return out;
}

function asObject(value: Json): JsonObject {
  if (!isObject(value)) throw new Error('expected a JSON object');
  return value as JsonObject;
}

function ref(name: string): JsonObject {
  return { $ref: `#/components/schemas/${name}` };
}

/** Reverse-domain prefix Kubernetes uses for schema names: config.porch.kpt.dev → dev.kpt.porch.config. */
function groupPrefix(group: string): string {
  return group ? group.split('.').reverse().join('.') : 'io.k8s.api.core';
}

export function definitionName(group: string, version: string, kind: string): string {
  return `${groupPrefix(group)}.${version}.${kind}`;
}

export function resourceSchemaName(res: Pick<ResourceDescriptor, 'group' | 'version' | 'kind'>): string {
  return definitionName(res.group, res.version, res.kind);
}

export function listSchemaName(res: Pick<ResourceDescriptor, 'group' | 'version' | 'listKind'>): string {
  return definitionName(res.group, res.version, res.listKind);
}

/** The key of a group-version in the /openapi/v3 index: "api/v1" or "apis/<group>/<version>". */
export function v3Key(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

function gvk(group: string, version: string, kind: string): JsonObject {
  return { group, version, kind };
}

function resourceSchema(res: ResourceDescriptor): JsonObject {
  const schema = asObject(normalise(toJsonSchema(res.schema, { ...CONVERSION, definitions: SHARED })));
  const props = isObject(schema.properties) ? (schema.properties as JsonObject) : {};
  for (const [field, doc] of Object.entries(STANDARD_FIELD_DOCS)) {
    const p = props[field];
    if (isObject(p) && p.description === undefined) (p as JsonObject).description = doc;
  }
  schema[GVK_EXTENSION] = [gvk(res.group, res.version, res.kind)];
  return schema;
}

function listSchema(res: ResourceDescriptor): JsonObject {
  return {
    description: `${res.listKind} is a list of ${res.kind} objects.`,
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: { type: 'string', description: STANDARD_FIELD_DOCS.apiVersion },
      items: { type: 'array', description: `List of ${res.plural}.`, items: ref(resourceSchemaName(res)) },
      kind: { type: 'string', description: STANDARD_FIELD_DOCS.kind },
      metadata: ref(LIST_META),
    },
    [GVK_EXTENSION]: [gvk(res.group, res.version, res.listKind)],
  };
}

function sharedSchemas(): Record<string, JsonObject> {
  const defs = toJsonSchemaDefs(SHARED, CONVERSION);
  const out: Record<string, JsonObject> = {};
  for (const [name, schema] of Object.entries(defs)) out[name] = asObject(normalise(schema));
  out[STATUS][GVK_EXTENSION] = [gvk('', 'v1', 'Status')];
  // Every group accepts DeleteOptions in its own version, as kube-apiserver registers it.
  out[DELETE_OPTIONS][GVK_EXTENSION] = groupVersions().map((gv) => gvk(gv.group, gv.version, 'DeleteOptions'));
  return out;
}

// ---- paths ----

interface Param {
  name: string;
  in: 'path' | 'query';
  description: string;
  type: 'string' | 'boolean' | 'integer';
}

type Method = 'get' | 'put' | 'post' | 'patch' | 'delete';
type Action = 'get' | 'list' | 'post' | 'put' | 'patch' | 'delete' | 'deletecollection';

interface Operation {
  method: Method;
  action: Action;
  operationId: string;
  description: string;
  kind: string;
  params: Param[];
  body?: { schema: string; contentTypes: string[]; required: boolean };
  responses: { code: number; description: string; schema?: string }[];
}

interface PathItem {
  path: string;
  params: Param[];
  ops: Operation[];
}

const P = {
  name: { name: 'name', in: 'path', type: 'string', description: 'name of the object' },
  namespace: { name: 'namespace', in: 'path', type: 'string', description: 'object name and auth scope, such as for teams and projects' },
  pretty: { name: 'pretty', in: 'query', type: 'string', description: "If 'true', then the output is pretty printed." },
  dryRun: {
    name: 'dryRun',
    in: 'query',
    type: 'string',
    description: 'When present, indicates that modifications should not be persisted. The only valid value is "All": all dry run stages are processed.',
  },
  fieldManager: {
    name: 'fieldManager',
    in: 'query',
    type: 'string',
    description: 'fieldManager is a name associated with the actor or entity that is making these changes.',
  },
  fieldValidation: {
    name: 'fieldValidation',
    in: 'query',
    type: 'string',
    description:
      'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown fields. Valid values are: - Ignore: unknown fields are dropped silently. - Warn: unknown fields are dropped and each is reported in a Warning response header (the default). - Strict: the request fails with BadRequest naming every unknown field.',
  },
  labelSelector: { name: 'labelSelector', in: 'query', type: 'string', description: 'A selector to restrict the list of returned objects by their labels.' },
  fieldSelector: { name: 'fieldSelector', in: 'query', type: 'string', description: 'A selector to restrict the list of returned objects by their fields.' },
  resourceVersion: { name: 'resourceVersion', in: 'query', type: 'string', description: 'Where a list or watch starts from; see the Kubernetes API concepts.' },
  timeoutSeconds: { name: 'timeoutSeconds', in: 'query', type: 'integer', description: 'Timeout for the list/watch call.' },
  watch: { name: 'watch', in: 'query', type: 'boolean', description: 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.' },
  allowWatchBookmarks: { name: 'allowWatchBookmarks', in: 'query', type: 'boolean', description: 'Requests watch events with type "BOOKMARK".' },
  sendInitialEvents: { name: 'sendInitialEvents', in: 'query', type: 'boolean', description: 'Start a watch stream with synthetic ADDED events for the current state.' },
  gracePeriodSeconds: { name: 'gracePeriodSeconds', in: 'query', type: 'integer', description: 'The duration in seconds before the object should be deleted.' },
  propagationPolicy: { name: 'propagationPolicy', in: 'query', type: 'string', description: 'Whether and how garbage collection will be performed.' },
} satisfies Record<string, Param>;

const WRITE_PARAMS: Param[] = [P.dryRun, P.fieldManager, P.fieldValidation];
const LIST_PARAMS: Param[] = [P.labelSelector, P.fieldSelector, P.resourceVersion, P.timeoutSeconds, P.watch, P.allowWatchBookmarks, P.sendInitialEvents];
const DELETE_PARAMS: Param[] = [P.dryRun, P.gracePeriodSeconds, P.propagationPolicy];

function camel(s: string): string {
  return s
    .split(/[.\-]/)
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('');
}

function gvTag(res: ResourceDescriptor): string {
  const g = res.group ? camel(res.group) : 'Core';
  return `${g[0].toLowerCase()}${g.slice(1)}_${res.version}`;
}

function opId(verb: string, res: ResourceDescriptor, opts: { namespaced?: boolean; sub?: string; allNamespaces?: boolean; list?: boolean } = {}): string {
  const gv = `${res.group ? camel(res.group) : 'Core'}${camel(res.version)}`;
  return `${verb}${gv}${opts.namespaced ? 'Namespaced' : ''}${res.kind}${opts.sub ? camel(opts.sub) : ''}${opts.allNamespaces ? 'ForAllNamespaces' : ''}`;
}

function patchContentTypes(res: ResourceDescriptor): string[] {
  // Porch kinds declare no list merge keys, so (as for custom resources) strategic merge is not
  // advertised and kubectl apply sends JSON merge patches; core kinds accept it as kube does.
  const types = ['application/json-patch+json', 'application/merge-patch+json'];
  if (!res.group) types.push('application/strategic-merge-patch+json');
  return types;
}

function resourcePaths(res: ResourceDescriptor): PathItem[] {
  const base = res.group ? `/apis/${res.group}/${res.version}` : `/api/${res.version}`;
  const scope = res.namespaced ? `${base}/namespaces/{namespace}` : base;
  const scopeParams: Param[] = res.namespaced ? [P.namespace] : [];
  const ns = res.namespaced;
  const has = (verb: Verb) => res.verbs.includes(verb);
  const kindSchema = resourceSchemaName(res);
  const objectBody = { schema: kindSchema, contentTypes: ['application/json', 'application/yaml'], required: true };
  /** A write's answers: the object, whether it was there (200), made (201) or is still being deleted (202). */
  const written = (...codes: (200 | 201 | 202)[]) => codes.map((code) => ({ code, description: WRITE_ANSWERS[code], schema: kindSchema }));
  const items: PathItem[] = [];

  const collection: Operation[] = [];
  if (has('list'))
    collection.push({
      method: 'get',
      action: 'list',
      operationId: opId('list', res, { namespaced: ns }),
      description: `list or watch objects of kind ${res.kind}`,
      kind: res.kind,
      params: LIST_PARAMS,
      responses: [{ code: 200, description: 'OK', schema: listSchemaName(res) }],
    });
  if (has('create'))
    collection.push({
      method: 'post',
      action: 'post',
      operationId: opId('create', res, { namespaced: ns }),
      description: `create a ${res.kind}`,
      kind: res.kind,
      params: WRITE_PARAMS,
      body: objectBody,
      responses: written(200, 201, 202),
    });
  if (has('deletecollection'))
    collection.push({
      method: 'delete',
      action: 'deletecollection',
      operationId: opId('deleteCollection', res, { namespaced: ns }),
      description: `delete collection of ${res.kind}`,
      kind: res.kind,
      // No dryRun here: deleting a collection has no dry run (every single-object write has one).
      params: [...DELETE_PARAMS.filter((p) => p !== P.dryRun), ...LIST_PARAMS.filter((p) => p.name !== 'watch')],
      body: { schema: DELETE_OPTIONS, contentTypes: ['application/json'], required: false },
      responses: [{ code: 200, description: 'OK', schema: STATUS }],
    });
  if (collection.length) items.push({ path: `${scope}/${res.plural}`, params: [...scopeParams, P.pretty], ops: collection });

  if (ns && has('list'))
    items.push({
      path: `${base}/${res.plural}`,
      params: [P.pretty],
      ops: [
        {
          method: 'get',
          action: 'list',
          operationId: opId('list', res, { allNamespaces: true }),
          description: `list or watch objects of kind ${res.kind} in all namespaces`,
          kind: res.kind,
          params: LIST_PARAMS,
          responses: [{ code: 200, description: 'OK', schema: listSchemaName(res) }],
        },
      ],
    });

  const itemOps = (verbs: Verb[], sub?: string): Operation[] => {
    const ops: Operation[] = [];
    const what = sub ? `${sub} of the specified ${res.kind}` : `the specified ${res.kind}`;
    const id = (verb: string) => opId(verb, res, { namespaced: ns, sub });
    if (verbs.includes('get'))
      ops.push({ method: 'get', action: 'get', operationId: id('read'), description: `read ${what}`, kind: res.kind, params: [], responses: [{ code: 200, description: 'OK', schema: kindSchema }] });
    if (verbs.includes('update'))
      ops.push({
        method: 'put',
        action: 'put',
        operationId: id('replace'),
        description: `replace ${what}`,
        kind: res.kind,
        params: WRITE_PARAMS,
        body: objectBody,
        responses: written(200, 201),
      });
    if (verbs.includes('patch'))
      ops.push({
        method: 'patch',
        action: 'patch',
        operationId: id('patch'),
        description: `partially update ${what}`,
        kind: res.kind,
        params: WRITE_PARAMS,
        body: { schema: PATCH, contentTypes: patchContentTypes(res), required: true },
        responses: written(200, 201),
      });
    if (!sub && verbs.includes('delete'))
      ops.push({
        method: 'delete',
        action: 'delete',
        operationId: id('delete'),
        description: `delete ${what}`,
        kind: res.kind,
        params: DELETE_PARAMS,
        body: { schema: DELETE_OPTIONS, contentTypes: ['application/json'], required: false },
        responses: written(200, 202),
      });
    return ops;
  };

  const item = itemOps(res.verbs);
  if (item.length) items.push({ path: `${scope}/${res.plural}/{name}`, params: [P.name, ...scopeParams, P.pretty], ops: item });
  for (const s of res.subresources) {
    const ops = itemOps(s.verbs, s.name);
    if (ops.length) items.push({ path: `${scope}/${res.plural}/{name}/${s.name}`, params: [P.name, ...scopeParams, P.pretty], ops });
  }
  return items;
}

function operationExtensions(res: ResourceDescriptor, op: Operation): JsonObject {
  return { [ACTION_EXTENSION]: op.action, [GVK_EXTENSION]: gvk(res.group, res.version, op.kind) };
}

function v3Param(p: Param): JsonObject {
  const out: JsonObject = { name: p.name, in: p.in, description: p.description, schema: { type: p.type, uniqueItems: true } };
  if (p.in === 'path') out.required = true;
  return out;
}

function v2Param(p: Param): JsonObject {
  const out: JsonObject = { name: p.name, in: p.in, description: p.description, type: p.type, uniqueItems: true };
  if (p.in === 'path') out.required = true;
  return out;
}

function v3Operation(res: ResourceDescriptor, op: Operation): JsonObject {
  const out: JsonObject = { tags: [gvTag(res)], description: op.description, operationId: op.operationId };
  if (op.params.length) out.parameters = op.params.map(v3Param);
  if (op.body) {
    const content: JsonObject = {};
    for (const t of op.body.contentTypes) content[t] = { schema: ref(op.body.schema) };
    out.requestBody = { content, required: op.body.required };
  }
  const responses: JsonObject = {};
  for (const r of op.responses)
    responses[String(r.code)] = r.schema ? { description: r.description, content: { 'application/json': { schema: ref(r.schema) } } } : { description: r.description };
  responses['401'] = { description: 'Unauthorized' };
  out.responses = responses;
  return { ...out, ...operationExtensions(res, op) };
}

function v2Operation(res: ResourceDescriptor, op: Operation): JsonObject {
  const out: JsonObject = { tags: [gvTag(res)], description: op.description, operationId: op.operationId };
  if (op.body) out.consumes = op.body.contentTypes;
  out.produces = ['application/json'];
  out.schemes = ['https'];
  const params: JsonObject[] = [];
  if (op.body) params.push({ name: 'body', in: 'body', required: op.body.required, schema: { $ref: `#/definitions/${op.body.schema}` } });
  params.push(...op.params.map(v2Param));
  if (params.length) out.parameters = params;
  const responses: JsonObject = {};
  for (const r of op.responses)
    responses[String(r.code)] = r.schema ? { description: r.description, schema: { $ref: `#/definitions/${r.schema}` } } : { description: r.description };
  responses['401'] = { description: 'Unauthorized' };
  out.responses = responses;
  return { ...out, ...operationExtensions(res, op) };
}

/** An OpenAPI 3.0 schema rewritten for Swagger 2.0: other reference root, no `nullable`, no anyOf/oneOf. */
function toV2Schema(value: Json): Json {
  if (Array.isArray(value)) return value.map(toV2Schema);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, raw] of Object.entries(value as JsonObject)) {
    if (key === '$ref' && typeof raw === 'string') out.$ref = raw.replace('#/components/schemas/', '#/definitions/');
    else if (key === 'nullable') out['x-nullable'] = raw;
    else if (key === 'anyOf' || key === 'oneOf') continue;
    else out[key] = toV2Schema(raw);
  }
  return out;
}

// ---- documents ----

export interface ServedDocument {
  doc: JsonObject;
  /** The serialised document, computed once. */
  body: string;
  /** Upper-case hex SHA-512 of body, as kube-apiserver publishes in /openapi/v3 links. */
  hash: string;
  etag: string;
}

interface Built {
  schemas: Record<string, JsonObject>;
  v2: ServedDocument;
  v3Index: ServedDocument;
  v3: Map<string, ServedDocument>;
}

function serve(doc: JsonObject): ServedDocument {
  const body = JSON.stringify(doc);
  const hash = createHash('sha512').update(body).digest('hex').toUpperCase();
  return { doc, body, hash, etag: `"${hash}"` };
}

const INFO: JsonObject = { title: 'porch-ts', version: 'v1alpha1' };

function sortedObject(entries: [string, Json][]): JsonObject {
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function build(): Built {
  const shared = sharedSchemas();
  const schemas: Record<string, JsonObject> = { ...shared };
  for (const res of RESOURCES) {
    schemas[resourceSchemaName(res)] = resourceSchema(res);
    schemas[listSchemaName(res)] = listSchema(res);
  }

  const v3 = new Map<string, ServedDocument>();
  const index: JsonObject = {};
  const v2Paths: [string, Json][] = [];
  for (const { group, version } of groupVersions()) {
    const members = RESOURCES.filter((r) => r.group === group && r.version === version);
    const paths: [string, Json][] = [];
    const components: [string, Json][] = Object.entries(shared);
    for (const res of members) {
      components.push([resourceSchemaName(res), schemas[resourceSchemaName(res)]], [listSchemaName(res), schemas[listSchemaName(res)]]);
      for (const item of resourcePaths(res)) {
        const v3Item: JsonObject = {};
        const v2Item: JsonObject = {};
        for (const op of item.ops) {
          v3Item[op.method] = v3Operation(res, op);
          v2Item[op.method] = v2Operation(res, op);
        }
        v3Item.parameters = item.params.map(v3Param);
        v2Item.parameters = item.params.map(v2Param);
        paths.push([item.path, v3Item]);
        v2Paths.push([item.path, v2Item]);
      }
    }
    const served = serve({
      openapi: '3.0.0',
      info: { ...INFO, title: `porch-ts ${apiVersionOf({ group, version })}` },
      paths: sortedObject(paths),
      components: { schemas: sortedObject(components) },
    });
    const key = v3Key(group, version);
    v3.set(key, served);
    index[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${served.hash}` };
  }

  const definitions = sortedObject(Object.entries(schemas).map(([name, s]) => [name, toV2Schema(s)]));
  const v2 = serve({ swagger: '2.0', info: INFO, paths: sortedObject(v2Paths), definitions });
  return { schemas, v2, v3Index: serve({ paths: index }), v3 };
}

let built: Built | undefined;

function documents(): Built {
  built ??= build();
  return built;
}

/** The Swagger 2.0 document served at /openapi/v2. */
export function openapiV2(): ServedDocument {
  return documents().v2;
}

/** The /openapi/v3 discovery index: one link (with content hash) per group-version. */
export function openapiV3Index(): ServedDocument {
  return documents().v3Index;
}

/** The OpenAPI 3.0 document of one group-version, or undefined when the server does not serve it. */
export function openapiV3(group: string, version: string): ServedDocument | undefined {
  return documents().v3.get(v3Key(group, version));
}

/** Every component schema (OpenAPI 3.0 form, references to #/components/schemas), by name. */
export function componentSchemas(): Readonly<Record<string, JsonObject>> {
  return documents().schemas;
}
