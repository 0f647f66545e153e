import { errors } from '../errors.ts';
import { componentSchemas, resourceSchemaName, type Json, type JsonObject } from './openapi.ts';
import type { ResourceDescriptor } from './resources.ts';

// Unknown-field detection for the fieldValidation query parameter, judged against the same generated
// schema /openapi/v3 publishes: kubectl skips its own validation once the server advertises
// fieldValidation, so the server has to be the one that notices a misspelt field.

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

const DIRECTIVES: readonly FieldValidation[] = ['Ignore', 'Strict', 'Warn'];

/** Parse the fieldValidation query parameter; absent or empty is undefined (kube-apiserver then warns). */
export function parseFieldValidation(raw: string | undefined): FieldValidation | undefined {
  if (raw === undefined || raw === '') return undefined;
  if ((DIRECTIVES as readonly string[]).includes(raw)) return raw as FieldValidation;
  throw errors.badRequest(`fieldValidation: Unsupported value: "${raw}": supported values: "", "Ignore", "Strict", "Warn"`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** What a (possibly composed) schema says about an object's keys. */
interface Shape {
  properties: Map<string, JsonObject>;
  /** Schema for undeclared keys (a map's values), if any. */
  additional?: JsonObject;
  /** Undeclared keys are accepted without a schema. */
  open: boolean;
  items: JsonObject[];
}

const MAX_REF_DEPTH = 64;

function resolve(schema: JsonObject, schemas: Readonly<Record<string, JsonObject>>): JsonObject {
  let cur = schema;
  for (let i = 0; typeof cur.$ref === 'string'; i++) {
    const target = schemas[cur.$ref.replace('#/components/schemas/', '')];
    // A dangling or cyclic reference says nothing about the value: accept it rather than reject.
    if (!target || i >= MAX_REF_DEPTH) return {};
    cur = target;
  }
  return cur;
}

function shapeOf(schema: JsonObject, schemas: Readonly<Record<string, JsonObject>>): Shape {
  const shape: Shape = { properties: new Map(), open: false, items: [] };
  let declaresObject = false;
  const visit = (raw: Json, depth: number) => {
    if (!isObject(raw) || depth > MAX_REF_DEPTH) return;
    const s = resolve(raw as JsonObject, schemas);
    if (isObject(s.properties)) {
      declaresObject = true;
      for (const [k, p] of Object.entries(s.properties as JsonObject)) if (isObject(p)) shape.properties.set(k, p as JsonObject);
    }
    if (isObject(s.additionalProperties)) {
      declaresObject = true;
      shape.additional = s.additionalProperties as JsonObject;
    } else if (s.additionalProperties === true || s['x-kubernetes-preserve-unknown-fields'] === true) {
      shape.open = true;
    }
    if (isObject(s.items)) shape.items.push(s.items as JsonObject);
    for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
      const list = s[key];
      if (Array.isArray(list)) for (const sub of list) visit(sub, depth + 1);
    }
  };
  visit(schema, 0);
  // A schema that declares nothing about keys (`{}`, a bare `type: object`) constrains nothing.
  if (!declaresObject) shape.open = true;
  return shape;
}

function segment(key: string): string {
  return /^[A-Za-z0-9_$-]+$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function walk(schema: JsonObject, value: unknown, path: string, schemas: Readonly<Record<string, JsonObject>>, out: string[]): void {
  if (Array.isArray(value)) {
    const [items] = shapeOf(schema, schemas).items;
    if (items) value.forEach((el, i) => walk(items, el, `${path}[${i}]`, schemas, out));
    return;
  }
  if (!isObject(value)) return;
  const shape = shapeOf(schema, schemas);
  for (const [key, child] of Object.entries(value)) {
    const declared = shape.properties.get(key);
    if (declared) walk(declared, child, `${path}${segment(key)}`, schemas, out);
    else if (shape.additional) walk(shape.additional, child, `${path}${segment(key)}`, schemas, out);
    else if (!shape.open) out.push(`${path}${segment(key)}`);
  }
}

/**
 * JSON paths (".spec.foo", ".spec.tasks[0].bogus") of the fields in `body` that the resource's schema
 * does not declare. Maps accept any key; objects marked x-kubernetes-preserve-unknown-fields accept
 * anything; metadata is checked against ObjectMeta.
 */
export function unknownFields(res: ResourceDescriptor, body: unknown): string[] {
  const schemas = componentSchemas();
  const root = schemas[resourceSchemaName(res)];
  if (!root) return [];
  const out: string[] = [];
  walk(root, body, '', schemas, out);
  return out;
}

function unknownFieldMessage(path: string): string {
  return `unknown field "${path.replace(/^\./, '')}"`;
}

/**
 * Apply a fieldValidation directive to a decoded request body, as kube-apiserver does: Strict throws
 * 400 BadRequest naming every unknown field; Warn (and an absent directive) returns one warning text per
 * unknown field, for Warning response headers; Ignore returns nothing.
 */
export function checkUnknownFields(res: ResourceDescriptor, body: unknown, directive: FieldValidation | undefined): string[] {
  if (directive === 'Ignore') return [];
  const unknown = unknownFields(res, body);
  if (!unknown.length) return [];
  const messages = unknown.map(unknownFieldMessage);
  if (directive === 'Strict') throw errors.badRequest(`strict decoding error: ${messages.join(', ')}`);
  return messages;
}

/** A Warning header value (RFC 7234 code 299, as kube-apiserver sends them) carrying `text`. */
export function warningHeaderValue(text: string): string {
  // Header values are byte strings: anything outside printable ASCII is escaped rather than rejected.
  const quoted = JSON.stringify(text).replace(/[^\x20-\x7e]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `299 - ${quoted}`;
}

/** Add one Warning header per distinct text. */
export function appendWarnings(headers: Headers, texts: Iterable<string>): void {
  for (const text of new Set(texts)) headers.append('Warning', warningHeaderValue(text));
}
