import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isCelError, parse as parseCel, run as runCel, type CelInput } from '@bufbuild/cel';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { describe, expect, it } from 'vitest';
import { crdFiles, crdResources, crdSchema, customResourceDefinition, printerColumns } from '../../lib/api/crd.ts';
import { immutableRule, REPOSITORY_OVERLAY } from '../../lib/api/crd-rules.ts';
import { structuralProblems } from '../../lib/api/crd-structural.ts';
import type { KubeObject } from '../../lib/api/meta.ts';
import type { Json, JsonObject } from '../../lib/api/openapi.ts';
import { REPOSITORY_IMMUTABLE_FIELDS } from '../../lib/api/repository.ts';
import { findResource } from '../../lib/api/resources.ts';
import { repositoryStrategy } from '../../lib/strategy/repository.ts';
import { isObj, obj as asObj, yamlObjects } from '../support/yaml-objects.ts';

const INFRA = fileURLToPath(new URL('../../infra/', import.meta.url));
const EXAMPLES = join(INFRA, 'examples');
const CONFIG = 'config.porch.kpt.dev';
const REPOSITORIES = findResource(CONFIG, 'v1alpha1', 'repositories')!;

const isObject = (v: unknown): v is JsonObject => isObj(v);
const obj = (v: unknown) => asObj(v) as JsonObject;
const yamlDocs = (path: string) => yamlObjects(readFileSync(path, 'utf8'), path) as JsonObject[];

function exampleObjects(): { file: string; object: JsonObject }[] {
  return readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((file) => yamlDocs(join(EXAMPLES, file)).map((object) => ({ file, object })));
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

// ---- JSON Schema validation of objects against a CRD's openAPIV3Schema ----

// The Kubernetes vendor extensions are annotations to a JSON Schema validator; kube-apiserver acts on
// them (pruning, CEL), which this test covers separately.
const ajv = new Ajv({ allErrors: true, strict: true });
for (const keyword of [
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-validations',
  'x-kubernetes-int-or-string',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
])
  ajv.addKeyword(keyword);

const validators = new Map<string, ValidateFunction>();
function validatorFor(kind: string): ValidateFunction {
  let v = validators.get(kind);
  if (!v) {
    const res = crdResources().find((r) => r.kind === kind);
    if (!res) throw new Error(`no CRD for kind ${kind}`);
    v = ajv.compile(crdSchema(res));
    validators.set(kind, v);
  }
  return v;
}

function schemaErrors(o: JsonObject): ErrorObject[] {
  const validate = validatorFor(String(o.kind));
  return validate(o) ? [] : (validate.errors ?? []);
}

function describeErrors(errors: ErrorObject[]): string[] {
  return errors.map((e) => `${e.instancePath || '(root)'} ${e.keyword}: ${e.message ?? ''}`);
}

// ---- CEL ----

/** JSON as kube-apiserver hands it to CEL: objects are maps, whole numbers are ints. */
function celValue(v: Json | undefined): CelInput {
  if (Array.isArray(v)) return v.map(celValue);
  if (isObject(v)) return new Map(Object.entries(v).map(([k, x]) => [k, celValue(x)]));
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  return v ?? null;
}

function rulesOf(schema: JsonObject): { rule: string; message: string }[] {
  const rules = schema['x-kubernetes-validations'];
  return Array.isArray(rules) ? rules.map((r) => ({ rule: String(obj(r).rule), message: String(obj(r).message) })) : [];
}

const isTransition = (rule: string) => /\boldSelf\b/.test(rule);

/**
 * The messages of the root rules that refuse the object, as kube-apiserver evaluates them: rules that
 * read oldSelf only on updates; an evaluation error refuses the object as a false result does.
 */
function celFailures(schema: JsonObject, self: JsonObject, oldSelf?: JsonObject): string[] {
  const failed: string[] = [];
  for (const { rule, message } of rulesOf(schema)) {
    if (isTransition(rule) && !oldSelf) continue;
    const result = runCel(rule, { self: celValue(self), ...(oldSelf ? { oldSelf: celValue(oldSelf) } : {}) });
    if (isCelError(result) || result !== true) failed.push(message);
  }
  return failed;
}

// ---- fixtures ----

function example(kind: string, name: string): JsonObject {
  const found = exampleObjects().find((e) => e.object.kind === kind && obj(e.object.metadata).name === name);
  if (!found) throw new Error(`no example ${kind} ${name}`);
  return clone(found.object);
}

const gitRepo = () => example('Repository', 'blueprints');
const secretRepo = () => example('Repository', 'deployments');
const ociRepo = (): JsonObject => ({
  apiVersion: `${CONFIG}/v1alpha1`,
  kind: 'Repository',
  metadata: { name: 'images' },
  spec: { type: 'oci', oci: { registry: 'registry.example.com/packages' } },
});

function withSpec(o: JsonObject, change: (spec: JsonObject) => void): JsonObject {
  const out = clone(o);
  change(obj(out.spec));
  return out;
}

describe('generated CRD manifests', () => {
  it('are committed exactly as the generator writes them now', () => {
    const files = crdFiles();
    expect(files.map((f) => f.path).sort()).toEqual(
      readdirSync(join(INFRA, 'crds'))
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => `crds/${f}`)
        .sort(),
    );
    for (const f of files) expect(readFileSync(join(INFRA, f.path), 'utf8'), `${f.path} is stale: run npm run gen:infra`).toBe(f.content);
  });

  it('cover the four config.porch.kpt.dev kinds, named and scoped as the server serves them', () => {
    expect(crdResources().map((r) => r.kind).sort()).toEqual(['PackageRev', 'PackageVariant', 'PackageVariantSet', 'Repository']);
    for (const res of crdResources()) {
      const crd = customResourceDefinition(res);
      const spec = obj(crd.spec);
      expect(obj(crd.metadata).name).toBe(`${res.plural}.${CONFIG}`);
      expect(spec.group).toBe(CONFIG);
      expect(spec.scope).toBe('Namespaced');
      const names = obj(spec.names);
      expect(names).toMatchObject({ kind: res.kind, listKind: res.listKind, plural: res.plural, singular: res.singular });
      expect(names.shortNames ?? []).toEqual(res.shortNames);
      const versions = spec.versions as JsonObject[];
      expect(versions).toHaveLength(1);
      expect(versions[0]).toMatchObject({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
    }
    // Porch's own short name for repositories.
    expect(obj(obj(customResourceDefinition(REPOSITORIES).spec).names).shortNames).toEqual(['repo']);
  });

  it('declare the Repository printer columns of the server table, plus Age', () => {
    const cols = printerColumns(REPOSITORIES);
    expect(cols.map((c) => c.name)).toEqual(['Type', 'Content', 'Sync Schedule', 'Deployment', 'Ready', 'Address', 'Branch', 'Age']);
    expect(cols.find((c) => c.name === 'Ready')).toEqual({ name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' });
    expect(cols.find((c) => c.name === 'Age')).toEqual({ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' });
    // Kinds without columns get kube-apiserver's default Name and Age.
    expect(printerColumns(findResource(CONFIG, 'v1alpha1', 'packagevariants')!)).toEqual([]);
  });

  it('are valid CustomResourceDefinitions by the Kubernetes API schema', () => {
    for (const f of crdFiles()) {
      const [doc] = yamlDocs(join(INFRA, f.path));
      expect(() => new CustomResourceDefinition(doc as unknown as ConstructorParameters<typeof CustomResourceDefinition>[0]).validate(), f.path).not.toThrow();
    }
  });

  it('have structural schemas', () => {
    for (const res of crdResources()) {
      const schema = crdSchema(res);
      expect(structuralProblems(schema), res.kind).toEqual([]);
      expect(JSON.stringify(schema)).not.toContain('$ref');
      expect(obj(schema.properties).metadata).toEqual({ type: 'object' });
    }
    // Free-form parts are marked so kube-apiserver keeps them instead of pruning them.
    const pv = crdSchema(findResource(CONFIG, 'v1alpha1', 'packagevariants')!);
    expect(obj(obj(pv.properties).spec)['x-kubernetes-preserve-unknown-fields']).toBe(true);
    const mutators = obj(obj(obj(crdSchema(REPOSITORIES).properties).spec).properties).mutators;
    expect(obj(obj(mutators).items)['x-kubernetes-preserve-unknown-fields']).toBe(true);
  });
});

describe('structuralProblems', () => {
  const ok: JsonObject = { type: 'object', properties: { metadata: { type: 'object' }, spec: { type: 'object', properties: { a: { type: 'string' } } } } };
  const spec = (s: JsonObject): JsonObject => ({ type: 'object', properties: { spec: s } });

  it('accepts a structural schema', () => {
    expect(structuralProblems(ok)).toEqual([]);
  });

  it('names each rule a schema breaks', () => {
    expect(structuralProblems(spec({ properties: { a: { type: 'string' } } }))).toEqual(['.spec: needs a type (one of object, array, string, integer, number, boolean)', '.spec: properties/additionalProperties need type object']);
    expect(structuralProblems(spec({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'string' } }))).toContain('.spec: properties and additionalProperties are mutually exclusive');
    expect(structuralProblems(spec({ type: 'object', additionalProperties: false }))).toContain('.spec: additionalProperties: false is forbidden');
    expect(structuralProblems(spec({ $ref: '#/components/schemas/X' }))).toContain('.spec: $ref is not allowed in a CRD schema');
    expect(structuralProblems(spec({ type: 'array' }))).toContain('.spec: an array needs items');
    expect(structuralProblems(spec({ type: 'string', anyOf: [{ type: 'string' }] }))).toEqual(['.spec: anyOf is not generated here (structural schemas allow it only without types inside)']);
    expect(structuralProblems(spec({ type: 'array', items: { type: 'string' }, uniqueItems: true }))).toContain('.spec: uniqueItems: true is forbidden (quadratic to check)');
    expect(structuralProblems(spec({ type: 'string', enum: ['a', 1] }))).toContain('.spec: enum value 1 is not a string');
    expect(structuralProblems(spec({ type: 'object', properties: {}, required: ['x'] }))).toContain('.spec: required field x is not declared');
    expect(structuralProblems(spec({ type: 'object', 'x-kubernetes-validations': [{ message: 'no rule' }] }))).toContain('.spec: x-kubernetes-validations[0] needs a non-empty rule');
    expect(structuralProblems({ type: 'object', properties: { metadata: { type: 'object', properties: { labels: { type: 'object' } } } } })).toEqual([
      '.metadata.labels: only name and generateName may be constrained',
    ]);
    expect(structuralProblems({ type: 'string' })).toEqual(['(root): must be a schema of type object']);
  });
});

describe('examples in infra/examples', () => {
  it('include a git Repository, one with a Secret and sync schedule, a PackageVariant and a PackageVariantSet', () => {
    const kinds = exampleObjects().map((e) => `${e.file}:${String(e.object.kind)}`);
    expect(kinds).toEqual([
      'packagevariant.yaml:PackageVariant',
      'packagevariantset.yaml:PackageVariantSet',
      'repository-git.yaml:Repository',
      'repository-with-secret.yaml:Secret',
      'repository-with-secret.yaml:Repository',
    ]);
    const deployments = secretRepo();
    expect(obj(obj(obj(deployments.spec).git).secretRef).name).toBe('deployments-git-credentials');
    expect(obj(obj(deployments.spec).sync).schedule).toBe('*/10 * * * *');
  });

  it('are accepted by their CRD schemas and rules', () => {
    const custom = exampleObjects().filter((e) => String(e.object.apiVersion).startsWith(`${CONFIG}/`));
    expect(custom).toHaveLength(4);
    for (const { file, object } of custom) {
      expect(object.apiVersion).toBe(`${CONFIG}/v1alpha1`);
      expect(describeErrors(schemaErrors(object)), file).toEqual([]);
      const res = crdResources().find((r) => r.kind === object.kind)!;
      expect(celFailures(crdSchema(res), object), file).toEqual([]);
    }
  });

  it('are accepted by the dev server strategy too', () => {
    for (const repo of [gitRepo(), secretRepo()]) {
      const o = repo as unknown as KubeObject;
      repositoryStrategy.prepareForCreate?.(o);
      expect(repositoryStrategy.validate?.(o) ?? [], String(obj(repo.metadata).name)).toEqual([]);
    }
  });
});

describe('CRD schemas refuse invalid objects', () => {
  const refused = (o: JsonObject) => describeErrors(schemaErrors(o));

  it('wrong types', () => {
    expect(refused(withSpec(gitRepo(), (s) => (s.deployment = 'yes')))).toEqual(['/spec/deployment type: must be boolean']);
    expect(refused(withSpec(gitRepo(), (s) => (obj(s.git).repo = 42)))).toEqual(['/spec/git/repo type: must be string']);
    expect(refused(withSpec(secretRepo(), (s) => (s.sync = '*/10 * * * *')))).toEqual(['/spec/sync type: must be object']);
    expect(refused(withSpec(gitRepo(), (s) => (s.mutators = { image: 'x' })))).toEqual(['/spec/mutators type: must be array']);
    const pv = example('PackageVariant', 'edge-1-nginx');
    expect(refused({ ...pv, spec: 'edge-1' })).toEqual(['/spec type: must be object']);
    const pvs = example('PackageVariantSet', 'nginx-everywhere');
    expect(refused({ ...pvs, apiVersion: 1 })).toEqual(['/apiVersion type: must be string']);
    expect(refused({ ...gitRepo(), status: { packageCount: 'many' } })).toEqual(['/status/packageCount type: must be number']);
  });

  it('unknown enum values', () => {
    expect(refused(withSpec(gitRepo(), (s) => (s.type = 'svn')))).toEqual(['/spec/type enum: must be equal to one of the allowed values']);
    const status = { conditions: [{ type: 'Ready', status: 'Maybe' }] };
    expect(refused({ ...gitRepo(), status })).toEqual(['/status/conditions/0/status enum: must be equal to one of the allowed values']);
  });

  it('missing required fields', () => {
    expect(refused(withSpec(gitRepo(), (s) => delete obj(s.git).repo))).toEqual(["/spec/git required: must have required property 'repo'"]);
    expect(refused(withSpec(gitRepo(), (s) => (obj(s.git).repo = '')))).toEqual(['/spec/git/repo minLength: must NOT have fewer than 1 characters']);
    expect(refused(withSpec(secretRepo(), (s) => delete obj(obj(s.git).secretRef).name))).toEqual(["/spec/git/secretRef required: must have required property 'name'"]);
    expect(refused(withSpec(ociRepo(), (s) => delete obj(s.oci).registry))).toEqual(["/spec/oci required: must have required property 'registry'"]);
    expect(refused({ ...gitRepo(), status: { conditions: [{ status: 'True' }] } })).toEqual(["/status/conditions/0 required: must have required property 'type'"]);
  });
});

describe('CEL rules (x-kubernetes-validations)', () => {
  const schema = crdSchema(REPOSITORIES);
  const rules = rulesOf(schema);

  it('are present, parse as CEL and name only fields the schema declares', () => {
    expect(rules.length).toBe(REPOSITORY_OVERLAY.rules.length);
    for (const keys of REPOSITORY_IMMUTABLE_FIELDS) expect(rules.map((r) => r.message)).toContain(`spec.${keys.join('.')} is immutable`);
    for (const { rule, message } of rules) {
      expect(() => parseCel(rule), rule).not.toThrow();
      expect(message.length).toBeGreaterThan(0);
      // kube-apiserver type-checks rules against the schema; a misspelt field would be refused.
      for (const m of rule.matchAll(/\b(?:self|oldSelf)((?:\.[A-Za-z_]\w*)+)/g)) {
        const path = m[1].slice(1).split('.').filter((p) => !['matches'].includes(p));
        if (path[0] === 'metadata') {
          expect(['name', 'generateName'], rule).toContain(path[1]);
          continue;
        }
        let node: JsonObject = schema;
        for (const key of path) node = obj(obj(node.properties)[key]);
        expect(node.type, `${rule}: ${path.join('.')}`).toBeDefined();
      }
    }
    // fieldPath must point at a declared field, or kube-apiserver refuses the CRD.
    for (const r of REPOSITORY_OVERLAY.rules.filter((x) => x.fieldPath)) {
      let node: JsonObject = schema;
      for (const key of r.fieldPath!.slice(1).split('.')) node = obj(obj(node.properties)[key]);
      expect(node.type).toBeDefined();
    }
  });

  it('keeps immutable fields on update and lets the rest change', () => {
    const old = secretRepo();
    expect(celFailures(schema, clone(old), old)).toEqual([]);
    expect(celFailures(schema, withSpec(old, (s) => (s.description = 'changed')), old)).toEqual([]);
    expect(celFailures(schema, withSpec(old, (s) => (obj(s.sync).schedule = '0 * * * *')), old)).toEqual([]);
    expect(celFailures(schema, withSpec(old, (s) => (obj(s.git).repo = 'https://git.example.com/other.git')), old)).toEqual(['spec.git.repo is immutable']);
    expect(celFailures(schema, withSpec(old, (s) => (obj(s.git).branch = 'release')), old)).toEqual(['spec.git.branch is immutable']);
    expect(celFailures(schema, withSpec(old, (s) => (obj(s.git).directory = 'sites')), old)).toEqual(['spec.git.directory is immutable']);
    expect(celFailures(schema, withSpec(old, (s) => (s.type = 'oci')), old)).toEqual(['spec.oci is required when spec.type is oci', 'spec.type is immutable']);
    // Dropping an immutable field is a change too.
    expect(celFailures(schema, withSpec(old, (s) => delete obj(s.git).directory), old)).toEqual(['spec.git.directory is immutable']);
    expect(celFailures(schema, withSpec(old, (s) => delete s.git), old)).toEqual([
      'spec.git (or spec.oci for an OCI repository) is required',
      'spec.git is required when spec.type is git',
      'spec.git.repo is immutable',
      'spec.git.branch is immutable',
      'spec.git.directory is immutable',
    ]);
    // A field that was not set may be set later.
    const noDir = withSpec(old, (s) => delete obj(s.git).directory);
    expect(celFailures(schema, clone(old), noDir)).toEqual([]);
    const oci = ociRepo();
    expect(celFailures(schema, withSpec(oci, (s) => (obj(s.oci).registry = 'other.example.com')), oci)).toEqual(['spec.oci.registry is immutable']);
  });

  it('check names and repository details on create', () => {
    expect(celFailures(schema, { ...gitRepo(), metadata: { name: 'Blue_Prints' } })).toEqual([
      'metadata.name must be a lowercase RFC 1123 label (alphanumerics and -, starting and ending with an alphanumeric)',
    ]);
    expect(celFailures(schema, { ...gitRepo(), metadata: { name: 'a'.repeat(64) } })).toEqual(['metadata.name must be no more than 63 characters']);
    expect(celFailures(schema, withSpec(gitRepo(), (s) => delete s.git))).toEqual([
      'spec.git (or spec.oci for an OCI repository) is required',
      'spec.git is required when spec.type is git',
    ]);
    expect(celFailures(schema, { ...gitRepo(), spec: undefined as unknown as Json })).toEqual(['spec.git (or spec.oci for an OCI repository) is required']);
    expect(celFailures(schema, withSpec(ociRepo(), (s) => (s.type = 'git')))).toEqual(['spec.git is required when spec.type is git']);
    expect(celFailures(schema, ociRepo())).toEqual([]);
  });

  it('agree with the dev server strategy', () => {
    const asKube = (o: JsonObject) => clone(o) as unknown as KubeObject;
    const base = secretRepo();
    const updates: JsonObject[] = [
      clone(base),
      withSpec(base, (s) => (s.description = 'x')),
      withSpec(base, (s) => (obj(s.git).repo = 'https://git.example.com/x.git')),
      withSpec(base, (s) => (obj(s.git).branch = 'x')),
      withSpec(base, (s) => (obj(s.git).directory = 'x')),
      withSpec(base, (s) => delete obj(s.git).directory),
      withSpec(base, (s) => (s.type = 'oci')),
    ];
    for (const next of updates) {
      const o = asKube(next);
      const old = asKube(base);
      repositoryStrategy.prepareForUpdate?.(o, old);
      const dev = (repositoryStrategy.validateUpdate?.(o, old) ?? []).map((c) => c.field);
      const cel = celFailures(schema, next, base).filter((m) => m.endsWith('is immutable')).map((m) => m.replace(' is immutable', ''));
      expect(cel, JSON.stringify(next.spec)).toEqual(dev);
    }
  });

  it('are built for any field path', () => {
    const r = immutableRule(['spec', 'a', 'b']);
    expect(r.rule).toBe('!(has(oldSelf.spec) && has(oldSelf.spec.a) && has(oldSelf.spec.a.b)) || (has(self.spec) && has(self.spec.a) && has(self.spec.a.b) && self.spec.a.b == oldSelf.spec.a.b)');
    expect(r).toMatchObject({ message: 'spec.a.b is immutable', fieldPath: '.spec.a.b' });
  });
});
