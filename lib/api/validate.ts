import * as v from 'valibot';
import { errors, type StatusCause } from '../errors.ts';
import type { KubeObject } from './meta.ts';
import { dnsSubdomainProblem } from './meta.ts';
import { metadataCauses } from './meta-validation.ts';
import { apiVersionOf, type ResourceDescriptor } from './resources.ts';

/**
 * A valibot issue's path as Kubernetes writes field paths (field.Path): `.name` for a field,
 * `[0]` for a list index, `[key]` for a map key — `spec.tasks[0].upgrade.strategy`,
 * `metadata.labels[app.kubernetes.io/name]` — so every cause names fields in the one form.
 */
export function issuePath(issue: v.BaseIssue<unknown>, prefix = ''): string {
  let out = prefix;
  for (const p of issue.path ?? []) {
    if (p.type === 'object' || p.type === 'unknown') out += `${out ? '.' : ''}${String(p.key)}`;
    else out += `[${String(p.key)}]`;
  }
  return out;
}

function issueCause(issue: v.BaseIssue<unknown>): StatusCause {
  const field = issuePath(issue);
  let message = issue.message;
  if (issue.kind === 'schema' && issue.expected) {
    message = issue.received === 'undefined' ? 'Required value' : `Invalid value: ${issue.received}: expected ${issue.expected}`;
  }
  return { reason: issue.received === 'undefined' ? 'FieldValueRequired' : 'FieldValueInvalid', message, field };
}

/**
 * Validate a decoded object against its resource schema. Returns the schema's output (unknown fields
 * dropped, as kube-apiserver prunes them) or throws 422 Invalid naming every failing field.
 */
export function validateObject<T extends KubeObject>(res: ResourceDescriptor<T>, input: unknown, extra: StatusCause[] = []): T {
  const result = v.safeParse(res.schema, input, { abortEarly: false });
  const name = typeof input === 'object' && input !== null ? String((input as KubeObject).metadata?.name ?? '') : '';
  const causes = [...extra];
  if (!result.success) causes.push(...result.issues.map(issueCause));
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
