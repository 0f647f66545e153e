import jsonMergePatch from 'json-merge-patch';
import fastJsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { errors } from '../errors.ts';
import { isRecord } from '../util.ts';

export type PatchType = 'json' | 'merge' | 'strategic';

export const PATCH_CONTENT_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  // Porch's types declare no list merge keys, so a strategic merge patch behaves as a merge patch.
  'application/strategic-merge-patch+json': 'strategic',
};

/** Apply a patch document to a copy of `current`; a malformed patch is a 400, one that cannot apply a 422. */
export function applyPatch(type: PatchType, current: Record<string, unknown>, patch: unknown): Record<string, unknown> {
  const base = structuredClone(current);
  if (type === 'json') {
    if (!Array.isArray(patch)) throw errors.badRequest('a JSON patch must be an array of operations');
    // A malformed document is a 400; one that is well formed but cannot apply to the current object
    // (missing path, failing test) is a 422, as kube-apiserver answers.
    const malformed = fastJsonPatch.validate(patch as Operation[]);
    if (malformed) throw errors.badRequest(`the JSON patch is invalid: ${malformed.message.split('\n')[0]} (operation ${malformed.index})`);
    try {
      const out = fastJsonPatch.applyPatch(base, patch as Operation[], true, true).newDocument;
      if (!isRecord(out)) throw errors.badRequest('the JSON patch replaced the whole object with a non-object');
      return out;
    } catch (err) {
      if (err instanceof fastJsonPatch.JsonPatchError) {
        const what = err.name === 'TEST_OPERATION_FAILED' ? 'test operation failed' : err.message.split('\n')[0];
        throw errors.unprocessable(`the JSON patch could not be applied: ${what} (operation ${err.index})`);
      }
      throw err;
    }
  }
  if (!isRecord(patch)) throw errors.badRequest('a merge patch must be a JSON object');
  if (type === 'strategic') stripDirectives(patch);
  const out = jsonMergePatch.apply(base, patch) as unknown;
  if (!isRecord(out)) throw errors.badRequest('the merge patch produced a non-object');
  return out;
}

function stripDirectives(obj: Record<string, unknown>): void {
  for (const key of Object.keys(obj)) {
    if (key.startsWith('$setElementOrder/') || key === '$retainKeys') delete obj[key];
    else if (key === '$patch') throw errors.badRequest('strategic merge patch directives ($patch) are not supported on this resource');
    else if (isRecord(obj[key])) stripDirectives(obj[key] as Record<string, unknown>);
  }
}
