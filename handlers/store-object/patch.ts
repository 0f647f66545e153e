import type { ResourceDescriptor } from '../../lib/api/resources.ts';
import { patchObject } from '../../lib/store/verbs.ts';
import { readPatchBody } from '../http/body.ts';
import { storeObjectWrite } from './write.ts';

/** PATCH (JSON patch, merge patch) an object of a store-served resource, or its status subresource. */
export function patchStoreObject(res: ResourceDescriptor) {
  return storeObjectWrite(res, 'patch', async (ctx, c, namespace, name, opts) => {
    const { type, patch } = await readPatchBody(c, ctx.config.maxBodyBytes);
    return patchObject(ctx.store, res, namespace, name, type, patch, opts);
  });
}
