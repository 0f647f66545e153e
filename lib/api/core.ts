import * as v from 'valibot';
import { objectSchema, specStatusSchema } from './meta.ts';

export const NamespaceSchema = specStatusSchema(
  'Namespace provides a scope for names.',
  v.object({ finalizers: v.optional(v.nullable(v.array(v.string()))) }),
  v.object({ phase: v.optional(v.string()) }),
);

export const SecretSchema = objectSchema('Secret holds secret data of a certain type.', {
  type: v.optional(v.pipe(v.string(), v.description('Used to facilitate programmatic handling of secret data.'))),
  immutable: v.optional(v.boolean()),
  data: v.optional(
    v.nullable(
      v.pipe(
        v.record(v.string(), v.pipe(v.string(), v.base64('must be base64 encoded'))),
        v.description('Secret data, base64 encoded.'),
      ),
    ),
  ),
  stringData: v.optional(v.nullable(v.pipe(v.record(v.string(), v.string()), v.description('Write-only convenience field: merged into data on write.')))),
});
