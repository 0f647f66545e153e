import { randomBytes } from 'node:crypto';
import { applyPatch, type PatchType } from '../api/patch.ts';
import type { KubeObject } from '../api/meta.ts';
import { NAMESPACES, RESOURCES, type ResourceDescriptor } from '../api/resources.ts';
import { checkKindAndVersion, nameCauses, validateObject } from '../api/validate.ts';
import { errors, StatusError } from '../errors.ts';
import { strategyFor } from '../strategy/index.ts';
import { checkUnknownFields, type FieldValidation } from '../api/strict-fields.ts';
import type { Store } from './types.ts';

// The store's write verbs (create, update, patch, delete) as kube-apiserver runs them for store-served
// resources: decode checks, defaulting, validation, admission (namespace must exist), then the store
// with its resourceVersion precondition.

export interface WriteOptions {
  dryRun?: boolean;
  subresource?: 'status';
  fieldValidation?: FieldValidation;
  /** Collects `unknown field` warnings (fieldValidation=Warn) for the response. */
  warnings?: string[];
}

function gr(res: ResourceDescriptor) {
  return { group: res.group, resource: res.plural };
}

/** Admission's namespace check: it must exist (404) and not be terminating (403). */
export async function requireNamespace(store: Store, res: ResourceDescriptor, namespace: string | undefined): Promise<void> {
  if (!res.namespaced) return;
  if (!namespace) throw errors.badRequest('a namespace is required for this resource');
  const ns = await store.get(NAMESPACES, undefined, namespace);
  if (!ns) throw errors.notFound({ group: '', resource: 'namespaces' }, namespace);
  if (ns.metadata.deletionTimestamp)
    throw errors.forbidden(gr(res), '', `unable to create new content in namespace ${namespace} because it is being terminated`);
}

function checkNamespace(res: ResourceDescriptor, body: Record<string, unknown>, namespace: string | undefined): void {
  const meta = (body.metadata ?? {}) as { namespace?: unknown };
  if (res.namespaced && meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace)
    throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
}

export async function createObject(store: Store, res: ResourceDescriptor, namespace: string | undefined, body: Record<string, unknown>, opts: WriteOptions = {}): Promise<KubeObject> {
  checkKindAndVersion(res, body);
  checkNamespace(res, body, namespace);
  if (body.metadata !== undefined && (typeof body.metadata !== 'object' || body.metadata === null || Array.isArray(body.metadata)))
    throw errors.badRequest('metadata must be an object');
  const meta = { ...((body.metadata as Record<string, unknown> | undefined) ?? {}) };
  if (!meta.name && typeof meta.generateName === 'string' && meta.generateName)
    meta.name = `${meta.generateName}${randomBytes(4).toString('hex').slice(0, 5)}`;
  if (res.namespaced) meta.namespace = namespace;
  const candidate = { ...body, metadata: meta };
  opts.warnings?.push(...checkUnknownFields(res, candidate, opts.fieldValidation));
  const obj = validateObject(res, candidate, nameCauses(typeof meta.name === 'string' ? meta.name : undefined));
  const strategy = strategyFor(res);
  strategy.prepareForCreate?.(obj);
  if (res.subresources.some((s) => s.name === 'status') && res.kind !== 'Namespace') delete obj.status;
  const causes = strategy.validate?.(obj) ?? [];
  if (causes.length) throw errors.invalid(res.kind, res.group, obj.metadata.name ?? '', causes);
  await requireNamespace(store, res, namespace);
  return store.create(res, obj, { dryRun: opts.dryRun });
}

export async function updateObject(
  store: Store,
  res: ResourceDescriptor,
  namespace: string | undefined,
  name: string,
  body: Record<string, unknown>,
  opts: WriteOptions = {},
): Promise<KubeObject> {
  checkKindAndVersion(res, body);
  checkNamespace(res, body, namespace);
  const meta = { ...((body.metadata as Record<string, unknown> | undefined) ?? {}) };
  if (meta.name !== undefined && meta.name !== name)
    throw errors.badRequest(`the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`);
  meta.name = name;
  if (res.namespaced) meta.namespace = namespace;
  opts.warnings?.push(...checkUnknownFields(res, { ...body, metadata: meta }, opts.fieldValidation));
  const old = await store.get(res, namespace, name);
  if (!old) throw errors.notFound(gr(res), name);
  const obj = validateObject(res, { ...body, metadata: meta });
  const strategy = strategyFor(res);
  if (opts.subresource !== 'status') {
    strategy.prepareForUpdate?.(obj, old);
    const causes = [...(strategy.validate?.(obj) ?? []), ...(strategy.validateUpdate?.(obj, old) ?? [])];
    if (causes.length) throw errors.invalid(res.kind, res.group, name, causes);
  }
  return store.update(res, obj, { subresource: opts.subresource, dryRun: opts.dryRun });
}

export async function patchObject(
  store: Store,
  res: ResourceDescriptor,
  namespace: string | undefined,
  name: string,
  type: PatchType,
  patch: unknown,
  opts: WriteOptions = {},
): Promise<KubeObject> {
  // A patch without a resourceVersion applies to whatever is current: retry when a concurrent writer
  // got in between our read and our write, as kube-apiserver does.
  for (let attempt = 0; ; attempt++) {
    const cur = await store.get(res, namespace, name);
    if (!cur) throw errors.notFound(gr(res), name);
    const patched = applyPatch(type, cur as unknown as Record<string, unknown>, patch);
    const meta = (patched.metadata ?? {}) as Record<string, unknown>;
    const pinned = meta.resourceVersion !== cur.metadata.resourceVersion;
    if (!pinned) meta.resourceVersion = cur.metadata.resourceVersion;
    try {
      return await updateObject(store, res, namespace, name, patched, opts);
    } catch (err) {
      if (!pinned && attempt < 5 && err instanceof StatusError && err.code === 409 && err.reason === 'Conflict') continue;
      throw err;
    }
  }
}

export async function deleteObject(
  store: Store,
  res: ResourceDescriptor,
  namespace: string | undefined,
  name: string,
  preconditions: { resourceVersion?: string; uid?: string },
  opts: WriteOptions = {},
): Promise<KubeObject> {
  // A dry run leaves what the namespace holds alone: its own answer is the namespace as deleted.
  if (res.kind === 'Namespace' && !opts.dryRun) await emptyNamespace(store, name);
  return store.delete(res, namespace, name, { ...preconditions, dryRun: opts.dryRun });
}

/** Deleting a namespace deletes what it holds (kube-apiserver's namespace controller, done inline). */
async function emptyNamespace(store: Store, namespace: string): Promise<void> {
  for (const r of RESOURCES) {
    if (!r.namespaced || r.backend !== 'store') continue;
    const { items } = await store.list(r, { namespace });
    for (const item of items) await store.delete(r, namespace, item.metadata.name ?? '').catch(() => undefined);
  }
}
