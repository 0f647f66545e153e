import type { Json, JsonObject } from './openapi.ts';

// kube-apiserver refuses a CustomResourceDefinition whose schema is not "structural" (apiextensions
// v1): it prunes, defaults and validates with the schema, which only works when every node says
// what it is. These are the rules it enforces that a generated schema could break; checking them
// here turns a CRD the cluster would reject into a failure of the generator instead.

/** The JSONSchemaProps fields a CRD may use (apiextensions.k8s.io/v1). */
const ALLOWED = new Set([
  'type', 'format', 'title', 'description', 'default', 'example', 'externalDocs',
  'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'multipleOf',
  'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems',
  'maxProperties', 'minProperties', 'required', 'enum', 'nullable',
  'items', 'properties', 'additionalProperties',
  'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource', 'x-kubernetes-int-or-string',
  'x-kubernetes-list-map-keys', 'x-kubernetes-list-type', 'x-kubernetes-map-type', 'x-kubernetes-validations',
]);

// Allowed by kube-apiserver only in restricted forms; a valibot union would need them, and its output
// would have to be reshaped first, so they are refused outright.
const JUNCTORS = new Set(['allOf', 'anyOf', 'oneOf', 'not']);

const TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);

function isObject(value: Json | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function matchesType(value: Json, type: string): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'array':
      return Array.isArray(value);
    default:
      return isObject(value);
  }
}

function checkValidations(rules: Json, at: string, problems: string[]): void {
  if (!Array.isArray(rules)) {
    problems.push(`${at}: x-kubernetes-validations must be a list`);
    return;
  }
  rules.forEach((rule, i) => {
    if (!isObject(rule) || typeof rule.rule !== 'string' || rule.rule.trim() === '')
      problems.push(`${at}: x-kubernetes-validations[${i}] needs a non-empty rule`);
    else if (rule.message !== undefined && (typeof rule.message !== 'string' || rule.message.includes('\n')))
      problems.push(`${at}: x-kubernetes-validations[${i}].message must be a single-line string`);
  });
}

/** metadata at the root may only be an object, with at most name/generateName constraints. */
function checkRootMetadata(meta: Json, problems: string[]): void {
  if (!isObject(meta) || meta.type !== 'object') {
    problems.push('.metadata: must be {type: object}');
    return;
  }
  for (const key of Object.keys(meta)) {
    if (key !== 'type' && key !== 'properties') problems.push(`.metadata: ${key} is not allowed; only name and generateName may be constrained`);
  }
  if (isObject(meta.properties)) {
    for (const [name, sub] of Object.entries(meta.properties)) {
      if (name !== 'name' && name !== 'generateName') problems.push(`.metadata.${name}: only name and generateName may be constrained`);
      else if (!isObject(sub) || sub.type !== 'string') problems.push(`.metadata.${name}: must be of type string`);
    }
  }
}

function checkNode(node: Json, at: string, problems: string[]): void {
  if (!isObject(node)) {
    problems.push(`${at}: a schema must be an object`);
    return;
  }
  for (const key of Object.keys(node)) {
    if (JUNCTORS.has(key)) problems.push(`${at}: ${key} is not generated here (structural schemas allow it only without types inside)`);
    else if (!ALLOWED.has(key)) problems.push(`${at}: ${key} is not allowed in a CRD schema`);
  }

  const intOrString = node['x-kubernetes-int-or-string'] === true;
  const type = node.type;
  if (!intOrString && (typeof type !== 'string' || !TYPES.has(type))) problems.push(`${at}: needs a type (one of ${[...TYPES].join(', ')})`);
  if (node['x-kubernetes-preserve-unknown-fields'] !== undefined && node['x-kubernetes-preserve-unknown-fields'] !== true)
    problems.push(`${at}: x-kubernetes-preserve-unknown-fields must be true when set`);
  if (node.uniqueItems === true) problems.push(`${at}: uniqueItems: true is forbidden (quadratic to check)`);

  if (node.properties !== undefined && node.additionalProperties !== undefined) problems.push(`${at}: properties and additionalProperties are mutually exclusive`);
  if (node.additionalProperties === false) problems.push(`${at}: additionalProperties: false is forbidden`);
  if ((node.properties !== undefined || node.additionalProperties !== undefined) && type !== 'object')
    problems.push(`${at}: properties/additionalProperties need type object`);

  if (node.properties !== undefined) {
    if (!isObject(node.properties)) problems.push(`${at}: properties must be a map`);
    else for (const [name, sub] of Object.entries(node.properties)) checkNode(sub, `${at}.${name}`, problems);
  }
  if (isObject(node.additionalProperties)) checkNode(node.additionalProperties, `${at}[*]`, problems);

  if (type === 'array') {
    if (node.items === undefined) problems.push(`${at}: an array needs items`);
    else if (Array.isArray(node.items)) problems.push(`${at}: items must be a single schema`);
    else checkNode(node.items, `${at}[]`, problems);
  } else if (node.items !== undefined) problems.push(`${at}: items needs type array`);

  if (node.required !== undefined) {
    const props = isObject(node.properties) ? node.properties : {};
    if (!Array.isArray(node.required) || node.required.length === 0) problems.push(`${at}: required must be a non-empty list`);
    else for (const r of node.required) if (typeof r !== 'string' || !(r in props)) problems.push(`${at}: required field ${String(r)} is not declared`);
  }
  if (node.enum !== undefined) {
    if (!Array.isArray(node.enum) || node.enum.length === 0) problems.push(`${at}: enum must be a non-empty list`);
    else if (typeof type === 'string') for (const e of node.enum) if (!matchesType(e, type)) problems.push(`${at}: enum value ${JSON.stringify(e)} is not a ${type}`);
  }
  if (node.default !== undefined && typeof type === 'string' && !matchesType(node.default, type))
    problems.push(`${at}: default ${JSON.stringify(node.default)} is not a ${type}`);
  if (node['x-kubernetes-validations'] !== undefined) checkValidations(node['x-kubernetes-validations'], at, problems);
}

/**
 * Why kube-apiserver would refuse this openAPIV3Schema of a CRD, one line per problem; empty when
 * the schema is structural and uses only what apiextensions.k8s.io/v1 allows.
 */
export function structuralProblems(root: Json): string[] {
  const problems: string[] = [];
  if (!isObject(root) || root.type !== 'object') return ['(root): must be a schema of type object'];
  const { properties } = root;
  if (isObject(properties) && properties.metadata !== undefined) {
    checkRootMetadata(properties.metadata, problems);
    const rest: JsonObject = { ...properties };
    delete rest.metadata;
    checkNode({ ...root, properties: rest }, '', problems);
  } else {
    checkNode(root, '', problems);
  }
  if (root.nullable === true) problems.push('(root): must not be nullable');
  return problems.map((p) => (p.startsWith(':') ? `(root)${p}` : p));
}
