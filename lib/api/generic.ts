import * as v from 'valibot';
import { ObjectMetaSchema } from './meta.ts';

/**
 * Objects whose controllers are not part of this server yet (PackageVariant, PackageVariantSet) and
 * PackageRev, which carries metadata only: stored as given, spec and status kept verbatim.
 */
export function preservingSchema(description: string) {
  return v.pipe(
    v.object({
      apiVersion: v.optional(v.string()),
      kind: v.optional(v.string()),
      metadata: ObjectMetaSchema,
      spec: v.optional(v.pipe(v.looseObject({}), v.description('Specification, stored as given.'))),
      status: v.optional(v.pipe(v.looseObject({}), v.description('Status, stored as given.'))),
    }),
    v.description(description),
  );
}
