import { describe, expect, it } from 'vitest';
import {
  componentSchemas,
  listSchemaName,
  OBJECT_META,
  openapiV2,
  openapiV3,
  openapiV3Index,
  resourceSchemaName,
  v3Key,
  type Json,
  type JsonObject,
} from '../../lib/api/openapi.ts';
import { findResource, groupVersions, RESOURCES, type ResourceDescriptor } from '../../lib/api/resources.ts';
import { appendWarnings, checkUnknownFields, parseFieldValidation, unknownFields, warningHeaderValue } from '../../lib/api/strict-fields.ts';
import { StatusError } from '../../lib/errors.ts';
import { openapiRoutes } from '../../gateway/openapi.ts';

const obj = (value: Json | undefined): JsonObject => {
  expect(value, 'expected an object').toBeTypeOf('object');
  expect(Array.isArray(value)).toBe(false);
  return value as JsonObject;
};

function refs(value: Json, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refs(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

function hasKey(value: Json, key: string): boolean {
  if (Array.isArray(value)) return value.some((v) => hasKey(v, key));
  if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => k === key || hasKey(v, key));
  return false;
}

const res = (group: string, version: string, plural: string): ResourceDescriptor => {
  const r = findResource(group, version, plural);
  if (!r) throw new Error(`no resource ${plural}`);
  return r;
};
const REPOSITORIES = res('config.porch.kpt.dev', 'v1alpha1', 'repositories');
const PACKAGE_REVISIONS = res('porch.kpt.dev', 'v1alpha1', 'packagerevisions');
const PRR = res('porch.kpt.dev', 'v1alpha1', 'packagerevisionresources');
const PACKAGE_VARIANTS = res('config.porch.kpt.dev', 'v1alpha1', 'packagevariants');

describe('OpenAPI v3', () => {
  it('indexes every group-version with a content hash link', () => {
    const index = obj(openapiV3Index().doc.paths);
    expect(Object.keys(index).sort()).toEqual(groupVersions().map((gv) => v3Key(gv.group, gv.version)).sort());
    expect(index).toHaveProperty(['api/v1']);
    expect(index).toHaveProperty(['apis/config.porch.kpt.dev/v1alpha1']);
    for (const { group, version } of groupVersions()) {
      const served = openapiV3(group, version)!;
      expect(obj(index[v3Key(group, version)]).serverRelativeURL).toBe(`/openapi/v3/${v3Key(group, version)}?hash=${served.hash}`);
      expect(served.hash).toMatch(/^[0-9A-F]{128}$/);
      expect(JSON.parse(served.body)).toEqual(served.doc);
    }
    expect(openapiV3('nope.example.com', 'v1')).toBeUndefined();
  });

  it('is computed once', () => {
    expect(openapiV3Index()).toBe(openapiV3Index());
    expect(openapiV3('', 'v1')).toBe(openapiV3('', 'v1'));
    expect(openapiV2()).toBe(openapiV2());
  });

  it('names schemas the Kubernetes way and tags each with its GVK', () => {
    expect(resourceSchemaName(PACKAGE_REVISIONS)).toBe('dev.kpt.porch.v1alpha1.PackageRevision');
    expect(resourceSchemaName(REPOSITORIES)).toBe('dev.kpt.porch.config.v1alpha1.Repository');
    expect(resourceSchemaName(res('', 'v1', 'secrets'))).toBe('io.k8s.api.core.v1.Secret');
    expect(listSchemaName(REPOSITORIES)).toBe('dev.kpt.porch.config.v1alpha1.RepositoryList');

    for (const r of RESOURCES) {
      const doc = openapiV3(r.group, r.version)!.doc;
      expect(doc.openapi).toBe('3.0.0');
      const schemas = obj(obj(doc.components).schemas);
      const kind = obj(schemas[resourceSchemaName(r)]);
      expect(kind['x-kubernetes-group-version-kind']).toEqual([{ group: r.group, version: r.version, kind: r.kind }]);
      expect(obj(obj(kind.properties).metadata).$ref).toBe(`#/components/schemas/${OBJECT_META}`);
      const list = obj(schemas[listSchemaName(r)]);
      expect(list['x-kubernetes-group-version-kind']).toEqual([{ group: r.group, version: r.version, kind: r.listKind }]);
      expect(schemas[OBJECT_META]).toBeDefined();
    }
  });

  it('resolves every reference inside its own document', () => {
    for (const { group, version } of groupVersions()) {
      const doc = openapiV3(group, version)!.doc;
      const schemas = obj(obj(doc.components).schemas);
      for (const ref of refs(doc)) {
        expect(ref.startsWith('#/components/schemas/'), ref).toBe(true);
        expect(schemas[ref.slice('#/components/schemas/'.length)], ref).toBeDefined();
      }
      // OpenAPI 3.0 forbids empty `required` arrays; the converter's own $defs must not leak.
      expect(hasKey(doc, '$defs')).toBe(false);
      expect(JSON.stringify(doc)).not.toContain('"required":[]');
    }
  });

  it('carries field documentation from the valibot schemas', () => {
    const repo = obj(componentSchemas()[resourceSchemaName(REPOSITORIES)]);
    const git = obj(obj(obj(obj(repo.properties).spec).properties).git);
    expect(git.description).toBe('Git repository details.');
    expect(obj(obj(git.properties).repo).description).toContain('Address of the git repository');
    expect(git.required).toEqual(['repo']);
    const pv = obj(componentSchemas()[resourceSchemaName(PACKAGE_VARIANTS)]);
    expect(obj(obj(pv.properties).spec)['x-kubernetes-preserve-unknown-fields']).toBe(true);
  });

  it('advertises dryRun on every single-object write (all honour it) and not on deletecollection (not served)', () => {
    let writes = 0;
    for (const r of RESOURCES) {
      for (const item of Object.values(obj(openapiV3(r.group, r.version)!.doc.paths))) {
        for (const [method, op] of Object.entries(obj(item))) {
          if (method === 'parameters' || method === 'get') continue;
          const o = obj(op);
          const params = (o.parameters as JsonObject[]).filter((p) => p.in === 'query').map((p) => p.name);
          if (o['x-kubernetes-action'] === 'deletecollection') expect(params).not.toContain('dryRun');
          else {
            expect(params, `${method} ${String(o.operationId)}`).toContain('dryRun');
            writes++;
          }
        }
      }
    }
    expect(writes).toBeGreaterThan(20);
  });

  it('describes an operation for every verb, with GVK and action extensions', () => {
    const methodFor: Record<string, string> = { create: 'post', update: 'put', patch: 'patch', delete: 'delete', deletecollection: 'delete', get: 'get', list: 'get' };
    for (const r of RESOURCES) {
      const paths = obj(openapiV3(r.group, r.version)!.doc.paths);
      const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
      const scope = r.namespaced ? `${base}/namespaces/{namespace}` : base;
      const own = new Set([`${scope}/${r.plural}`, `${base}/${r.plural}`, `${scope}/${r.plural}/{name}`, ...r.subresources.map((s) => `${scope}/${r.plural}/{name}/${s.name}`)]);
      const actions = new Set<string>();
      for (const [path, item] of Object.entries(paths)) {
        if (!own.has(path)) continue;
        for (const [method, op] of Object.entries(obj(item))) {
          if (method === 'parameters') continue;
          const o = obj(op);
          expect(o['x-kubernetes-group-version-kind'], `${method} ${path}`).toEqual({ group: r.group, version: r.version, kind: r.kind });
          expect(typeof o['x-kubernetes-action']).toBe('string');
          if (!r.subresources.some((s) => path.endsWith(`/${s.name}`))) actions.add(`${method}:${o['x-kubernetes-action']}`);
          if (method === 'patch' || method === 'put' || method === 'post') {
            const params = (o.parameters as JsonObject[]).filter((p) => p.in === 'query').map((p) => p.name);
            expect(params, `${method} ${path}`).toContain('fieldValidation');
          }
        }
      }
      for (const verb of r.verbs) {
        if (verb === 'watch') continue;
        const action = verb === 'create' ? 'post' : verb === 'update' ? 'put' : verb;
        expect(actions, `${r.plural} ${verb}`).toContain(`${methodFor[verb]}:${action}`);
      }
      if (!r.verbs.includes('patch')) expect([...actions].some((a) => a.startsWith('patch:'))).toBe(false);
    }
  });

  it('offers strategic merge patch only for core kinds', () => {
    const patchTypes = (r: ResourceDescriptor) => {
      const scope = r.group ? `/apis/${r.group}/${r.version}/namespaces/{namespace}` : `/api/v1/namespaces/{namespace}`;
      const op = obj(obj(obj(openapiV3(r.group, r.version)!.doc.paths)[`${scope}/${r.plural}/{name}`]).patch);
      return Object.keys(obj(obj(op.requestBody).content));
    };
    expect(patchTypes(REPOSITORIES)).not.toContain('application/strategic-merge-patch+json');
    expect(patchTypes(REPOSITORIES)).toContain('application/merge-patch+json');
    expect(patchTypes(res('', 'v1', 'secrets'))).toContain('application/strategic-merge-patch+json');
  });
});

describe('OpenAPI v2', () => {
  it('is a Swagger 2.0 document with the same definitions and paths', () => {
    const doc = openapiV2().doc;
    expect(doc.swagger).toBe('2.0');
    const defs = obj(doc.definitions);
    for (const r of RESOURCES) {
      expect(obj(defs[resourceSchemaName(r)])['x-kubernetes-group-version-kind']).toEqual([{ group: r.group, version: r.version, kind: r.kind }]);
      expect(defs[listSchemaName(r)]).toBeDefined();
    }
    for (const ref of refs(doc)) {
      expect(ref.startsWith('#/definitions/'), ref).toBe(true);
      expect(defs[ref.slice('#/definitions/'.length)], ref).toBeDefined();
    }
    expect(hasKey(doc, 'nullable')).toBe(false);
    const patch = obj(obj(obj(doc.paths)['/apis/config.porch.kpt.dev/v1alpha1/namespaces/{namespace}/repositories/{name}']).patch);
    const params = patch.parameters as JsonObject[];
    expect(params.find((p) => p.name === 'fieldValidation')).toMatchObject({ in: 'query', type: 'string' });
    expect(params.find((p) => p.in === 'body')).toMatchObject({ schema: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } });
    expect(patch['x-kubernetes-action']).toBe('patch');
  });
});

describe('openapi routes', () => {
  const app = openapiRoutes();

  it('serves v2 as JSON and refuses a protobuf-only client with a Status', async () => {
    const ok = await app.request('/openapi/v2', { headers: { accept: 'application/json' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/json');
    expect(ok.headers.get('etag')).toBe(openapiV2().etag);
    expect((await ok.json()).swagger).toBe('2.0');

    const pb = await app.request('/openapi/v2', { headers: { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } });
    expect(pb.status).toBe(406);
    expect(pb.headers.get('content-type')).toBe('application/json');
    expect(await pb.json()).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotAcceptable', code: 406 });

    const both = await app.request('/openapi/v2', { headers: { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf, application/json;q=0.9' } });
    expect(both.status).toBe(200);
    expect((await app.request('/openapi/v2')).status).toBe(200);
  });

  it('serves the v3 index and group-version documents', async () => {
    const index = await app.request('/openapi/v3');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('application/json');
    const body = (await index.json()) as { paths: Record<string, { serverRelativeURL: string }> };
    for (const { serverRelativeURL } of Object.values(body.paths)) {
      const doc = await app.request(serverRelativeURL, { headers: { accept: 'application/json' } });
      expect(doc.status, serverRelativeURL).toBe(200);
      expect(doc.headers.get('content-type')).toBe('application/json');
      expect(doc.headers.get('cache-control')).toContain('immutable');
      expect(((await doc.json()) as JsonObject).openapi).toBe('3.0.0');
    }
    const core = await app.request('/openapi/v3/api/v1');
    expect(core.status).toBe(200);
    expect(core.headers.get('etag')).toBe(openapiV3('', 'v1')!.etag);
  });

  it('answers 404 Status for unknown group-versions, 304 for a current ETag, 301 for a stale hash', async () => {
    const missing = await app.request('/openapi/v3/apis/nope.example.com/v1');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ kind: 'Status', code: 404, reason: 'NotFound' });
    expect((await app.request('/openapi/v3/api/v2')).status).toBe(404);

    const served = openapiV3('porch.kpt.dev', 'v1alpha1')!;
    const cached = await app.request('/openapi/v3/apis/porch.kpt.dev/v1alpha1', { headers: { 'if-none-match': served.etag } });
    expect(cached.status).toBe(304);

    const stale = await app.request('/openapi/v3/apis/porch.kpt.dev/v1alpha1?hash=0000');
    expect(stale.status).toBe(301);
    expect(stale.headers.get('location')).toBe(`/openapi/v3/apis/porch.kpt.dev/v1alpha1?hash=${served.hash}`);
  });
});

describe('unknownFields', () => {
  const repo = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({
    apiVersion: 'config.porch.kpt.dev/v1alpha1',
    kind: 'Repository',
    metadata: { name: 'r', namespace: 'default', ...metadata },
    spec,
  });

  it('accepts a fully declared object', () => {
    expect(unknownFields(REPOSITORIES, repo({ type: 'git', git: { repo: 'https://example.com/x.git', secretRef: { name: 's' } } }))).toEqual([]);
  });

  it('finds unknown fields at any depth', () => {
    expect(unknownFields(REPOSITORIES, repo({ foo: 1, git: { repo: 'x', bogus: true } }))).toEqual(['.spec.foo', '.spec.git.bogus']);
    expect(unknownFields(REPOSITORIES, { ...repo({}), extra: {} })).toEqual(['.extra']);
    expect(unknownFields(REPOSITORIES, repo({}, { bogus: 'x' }))).toEqual(['.metadata.bogus']);
    expect(unknownFields(REPOSITORIES, repo({}, { ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: 'u', nope: 1 }] }))).toEqual([
      '.metadata.ownerReferences[0].nope',
    ]);
    const pr = { metadata: { name: 'p' }, spec: { tasks: [{ type: 'init', init: { description: 'd' } }, { type: 'init', bogus: 1 }] } };
    expect(unknownFields(PACKAGE_REVISIONS, pr)).toEqual(['.spec.tasks[1].bogus']);
  });

  it('accepts any key of a map and anything under preserved fields', () => {
    expect(unknownFields(REPOSITORIES, repo({}, { labels: { x: 'y', 'a.b/c': 'd' }, annotations: { z: '1' } }))).toEqual([]);
    const prr = { metadata: { name: 'p' }, spec: { packageName: 'p', resources: { 'a/b.yaml': 'kind: X\n', 'Kptfile': '' } } };
    expect(unknownFields(PRR, prr)).toEqual([]);
    expect(unknownFields(PACKAGE_VARIANTS, { metadata: { name: 'v' }, spec: { upstream: { anything: [1, { goes: true }] } } })).toEqual([]);
    expect(unknownFields(REPOSITORIES, repo({ mutators: [{ image: 'x', configMap: { a: 'b' } }] }))).toEqual([]);
  });

  it('quotes keys that are not plain identifiers', () => {
    expect(unknownFields(REPOSITORIES, repo({ 'odd key': 1 }))).toEqual(['.spec["odd key"]']);
  });

  it('ignores nulls and scalars where objects are declared', () => {
    expect(unknownFields(REPOSITORIES, repo({ git: null }, { labels: null }))).toEqual([]);
    expect(unknownFields(REPOSITORIES, 'not an object')).toEqual([]);
  });
});

describe('fieldValidation directives', () => {
  const body = { metadata: { name: 'r' }, spec: { foo: 1, git: { repo: 'x', bogus: 2 } } };

  it('Strict fails with every unknown field, kube-apiserver style', () => {
    let err: unknown;
    try {
      checkUnknownFields(REPOSITORIES, body, 'Strict');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StatusError);
    expect((err as StatusError).code).toBe(400);
    expect((err as StatusError).reason).toBe('BadRequest');
    expect((err as StatusError).message).toBe('strict decoding error: unknown field "spec.foo", unknown field "spec.git.bogus"');
    expect(checkUnknownFields(REPOSITORIES, { metadata: { name: 'r' } }, 'Strict')).toEqual([]);
  });

  it('Warn and an absent directive return warnings; Ignore returns nothing', () => {
    expect(checkUnknownFields(REPOSITORIES, body, 'Warn')).toEqual(['unknown field "spec.foo"', 'unknown field "spec.git.bogus"']);
    expect(checkUnknownFields(REPOSITORIES, body, undefined)).toHaveLength(2);
    expect(checkUnknownFields(REPOSITORIES, body, 'Ignore')).toEqual([]);
  });

  it('parses the query parameter', () => {
    expect(parseFieldValidation(undefined)).toBeUndefined();
    expect(parseFieldValidation('')).toBeUndefined();
    expect(parseFieldValidation('Strict')).toBe('Strict');
    expect(parseFieldValidation('Warn')).toBe('Warn');
    expect(parseFieldValidation('Ignore')).toBe('Ignore');
    expect(() => parseFieldValidation('strict')).toThrow(/Unsupported value/);
  });

  it('formats Warning headers', () => {
    expect(warningHeaderValue('unknown field "spec.foo"')).toBe('299 - "unknown field \\"spec.foo\\""');
    expect(warningHeaderValue('ü')).toBe('299 - "\\u00fc"');
    const headers = new Headers();
    appendWarnings(headers, ['a', 'b', 'a']);
    expect(headers.get('warning')).toBe('299 - "a", 299 - "b"');
  });
});
