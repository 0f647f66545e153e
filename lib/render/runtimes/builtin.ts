import { BUILTINS } from '../builtin/registry.ts';
import type { BuiltinEntry } from '../builtin/registry-types.ts';
import { FunctionFailure, type FunctionRuntime } from '../runtime.ts';

const REGISTRIES = ['gcr.io/kpt-fn/', 'ghcr.io/kptdev/krm-functions-catalog/'];

/** NAME and TAG of a catalog image; a digest or a missing tag says nothing about behaviour. */
export function catalogImage(image: string): { name: string; tag: string } | undefined {
  const prefix = REGISTRIES.find((r) => image.startsWith(r));
  if (!prefix || image.includes('@')) return undefined;
  const rest = image.slice(prefix.length);
  const colon = rest.lastIndexOf(':');
  if (colon <= 0) return undefined;
  return { name: rest.slice(0, colon), tag: rest.slice(colon + 1) };
}

export function builtinFor(image: string, entries: readonly BuiltinEntry[] = BUILTINS): BuiltinEntry | undefined {
  const ref = catalogImage(image);
  return ref && entries.find((e) => e.name === ref.name && e.tags.test(ref.tag));
}

/** Catalog functions run in process, on copies of the items. */
export function builtinRuntime(entries: readonly BuiltinEntry[] = BUILTINS): FunctionRuntime {
  return {
    name: 'built-in',
    inProcess: true,
    lookup(image) {
      const entry = builtinFor(image, entries);
      if (!entry) return undefined;
      return async ({ items, functionConfig, paths }) => {
        const results = entry.fn(items, functionConfig, paths);
        const errors = results.filter((r) => r.severity === 'error');
        // A catalog function reporting an error exits non-zero; the render fails as it would.
        if (errors.length) throw new FunctionFailure(errors.map((e) => e.message).join('; '), 1, results);
        return { items, results };
      };
    },
  };
}
