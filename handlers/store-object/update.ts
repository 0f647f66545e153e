import type { ResourceDescriptor } from '../../lib/api/resources.ts';
import { updateObject } from '../../lib/store/verbs.ts';
import { readObjectBody } from '../http/body.ts';
import { storeObjectWrite } from './write.ts';

/** PUT (replace) an object of a store-served resource, or its status subresource. */
export function updateStoreObject(res: ResourceDescriptor) {
  return storeObjectWrite(res, 'put', async (ctx, c, namespace, name, opts) => updateObject(ctx.store, res, namespace, name, await readObjectBody(c, ctx.config.maxBodyBytes), opts));
}
