import type { KubeObject } from '../../lib/api/meta.ts';
import { applyPatch } from '../../lib/api/patch.ts';
import type { ResourceDescriptor } from '../../lib/api/resources.ts';
import type { AppContext } from '../../lib/context.ts';
import type { UserInfo } from '../../lib/auth/user.ts';
import { readObjectBody, readPatchBody } from './body.ts';
import { endpoint } from './endpoint.ts';
import { userOf } from './env.ts';
import { decodePackageRevision } from './porch-input.ts';
import { PACKAGEREVISIONS } from '../../lib/api/resources.ts';
import { objectResponse } from './respond.ts';
import { isDryRun } from './query.ts';
import type { WriteOptions } from '../../lib/engine/operations.ts';

// PUT and PATCH of an engine-served object: a PUT body, or the patch applied to the object as it is
// now, is decoded as the resource and handed to one engine operation. Every porch write verb is this.

export interface PorchWrite<T> {
  res: ResourceDescriptor;
  decode: (body: Record<string, unknown>, namespace: string, name: string, fieldValidation?: string) => T;
  /** The object as it is now, which a patch applies to. */
  current: (namespace: string, name: string) => Promise<KubeObject> | KubeObject;
  write: (namespace: string, name: string, input: T, user: UserInfo, opts: WriteOptions) => Promise<KubeObject>;
}

export function replaceEndpoint<T>(ctx: AppContext, w: PorchWrite<T>) {
  return endpoint(ctx.log, async (c) => {
    const dryRun = isDryRun(c);
    const namespace = c.req.param('namespace') ?? '';
    const name = c.req.param('name') ?? '';
    const input = w.decode(await readObjectBody(c, ctx.config.maxBodyBytes), namespace, name, c.req.query('fieldValidation'));
    return objectResponse(c, w.res, await w.write(namespace, name, input, userOf(c), { dryRun }));
  });
}

export function patchEndpoint<T>(ctx: AppContext, w: PorchWrite<T>) {
  return endpoint(ctx.log, async (c) => {
    const dryRun = isDryRun(c);
    const namespace = c.req.param('namespace') ?? '';
    const name = c.req.param('name') ?? '';
    const { type, patch } = await readPatchBody(c, ctx.config.maxBodyBytes);
    const current = await w.current(namespace, name);
    const input = w.decode(applyPatch(type, current as unknown as Record<string, unknown>, patch), namespace, name, c.req.query('fieldValidation'));
    return objectResponse(c, w.res, await w.write(namespace, name, input, userOf(c), { dryRun }));
  });
}

/** The main PackageRevision resource: metadata, lifecycle and readiness changes (RevisionOperations.update). */
export function revisionUpdate(ctx: AppContext): PorchWrite<ReturnType<typeof decodePackageRevision>> {
  return {
    res: PACKAGEREVISIONS,
    decode: decodePackageRevision,
    current: (namespace, name) => ctx.engine.getRevision(namespace, name).pr,
    write: (namespace, name, input, user, opts) => ctx.ops.update(namespace, name, input, user, opts),
  };
}
