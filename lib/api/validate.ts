import * as v from 'valibot';
import { errors, type StatusCause } from '../errors.ts';
import type { KubeObject } from './meta.ts';
import { dnsSubdomainProblem } from './meta.ts';
import { metadataCauses } from './meta-validation.ts';
import { apiVersionOf, type ResourceDescriptor } from './resources.ts';

/** The parts of a valibot schema a field path is told by (wrappers, objects, records, lists, unions). */
interface SchemaShape {
  type?: string;
  wrapped?: SchemaShape;
  entries?: Record<string, SchemaShape>;
  item?: SchemaShape;
  value?: SchemaShape;
  options?: SchemaShape[];
}

function unwrap(schema: SchemaShape | undefined, key: unknown): SchemaShape | undefined {
  let cur = schema;
  for (let i = 0; cur && i < 8; i++) {
    if (cur.wrapped) cur = cur.wrapped;
    else if (cur.options) cur = cur.options.find((o) => typeof key === 'string' && unwrap(o, undefined)?.entries?.[key] !== undefined) ?? cur.options[0];
    else break;
  }
  return cur;
}

/**
 * A valibot issue's path as Kubernetes writes field paths (field.Path): `.name` for a field,
 * `[0]` for a list index, `[key]` for a map key — `spec.tasks[0].upgrade.strategy`,
 * `spec.packageMetadata.labels[app.kubernetes.io/name]` — so every cause names fields in one form.
 * valibot reports record keys as object keys, so the schema tells which is which.
 */
export function issuePath(issue: v.BaseIssue<unknown>, schema?: unknown, prefix = ''): string {
  let out = prefix;
  let cur = schema as SchemaShape | undefined;
  for (const p of issue.path ?? []) {
    const node = unwrap(cur, p.key);
    const key = String(p.key);
    if (p.type === 'array' || node?.type === 'array') {
      out += `[${key}]`;
      cur = node?.item;
    } else if (p.type === 'map' || node?.type === 'record' || node?.type === 'map') {
      out += `[${key}]`;
      cur = node?.value;
    } else {
      out += `${out ? '.' : ''}${key}`;
      cur = node?.entries?.[key];
    }
  }
  return out;
}

function issueCause(issue: v.BaseIssue<unknown>, schema: unknown): StatusCause {
  const field = issuePath(issue, schema);
  let message = issue.message;
  if (issue.kind === 'schema' && issue.expected) {
    message = issue.received === 'undefined' ? 'Required value' : `Invalid value: ${issue.received}: expected ${issue.expected}`;
  }
  return { reason: issue.received === 'undefined' ? 'FieldValueRequired' : 'FieldValueInvalid', message, field };
}

/**
 * Validate a decoded object against its resource schema. Returns the schema's output (unknown fields
 * dropped, as kube-apiserver prunes them) or throws 422 Invalid naming every failing field (and the
 * object by `displayName` when its name is not given yet).
 */
export function validateObject<T extends KubeObject>(res: ResourceDescriptor<T>, input: unknown, extra: StatusCause[] = [], displayName?: string): T {
  const result = v.safeParse(res.schema, input, { abortEarly: false });
  const name = displayName ?? (typeof input === 'object' && input !== null ? String((input as KubeObject).metadata?.name ?? '') : '');
  const causes = [...extra];
  if (!result.success) causes.push(...result.issues.map((i) => issueCause(i, res.schema)));
  if (typeof input === 'object' && input !== null) causes.push(...metadataCauses((input as { metadata?: unknown }).metadata));
  if (causes.length) throw errors.invalid(res.kind, res.group, name, causes);
  return result.output as T;
}

/** Checks every write must pass before validation: the body is the kind the URL names, with object metadata. */
export function checkKindAndVersion(res: ResourceDescriptor, body: Record<string, unknown>): void {
  if (body.metadata !== undefined && body.metadata !== null && (typeof body.metadata !== 'object' || Array.isArray(body.metadata)))
    throw errors.badRequest(`metadata must be an object, not ${Array.isArray(body.metadata) ? 'an array' : `a ${typeof body.metadata}`}`);
  const want = apiVersionOf(res);
  if (body.apiVersion !== undefined && body.apiVersion !== want)
    throw errors.badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${want})`);
  if (body.kind !== undefined && body.kind !== res.kind)
    throw errors.badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${res.kind})`);
}

export function nameCauses(name: string | undefined, field = 'metadata.name'): StatusCause[] {
  if (!name) return [{ reason: 'FieldValueRequired', field, message: 'Required value: name or generateName is required' }];
  const problem = dnsSubdomainProblem(name);
  return problem ? [{ reason: 'FieldValueInvalid', field, message: `Invalid value: "${name}": ${problem}` }] : [];
}
