import { isScalar, type Document } from 'yaml';
import { FunctionFailure } from '../runtime.ts';
import { configMapData, gvk, str, visitMaps } from './objects.ts';
import type { BuiltinFunction } from './registry-types.ts';

// set-image v0.1: replaces images named `name` in the standard pod-spec image fields (kustomize's
// image field list) and in `additionalImageFields` of a SetImage config.

const DEFAULT_FIELDS = ['spec', 'spec/template/spec', 'spec/jobTemplate/spec/template/spec'].flatMap((p) => [`${p}/containers[]/image`, `${p}/initContainers[]/image`]);

interface ImageSpec {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

interface Field {
  group?: string;
  version?: string;
  kind?: string;
  path: string;
  create: boolean;
}

function specOf(config: Document | undefined): { image: ImageSpec; fields: Field[] } {
  let image: Record<string, string>;
  let fields: Field[] = [];
  if (config?.contents && str(config, ['kind']) === 'SetImage') {
    const js = config.toJS() as { image?: Record<string, string>; additionalImageFields?: Field[] };
    image = js.image ?? {};
    fields = (js.additionalImageFields ?? []).filter((f) => typeof f.path === 'string').map((f) => ({ ...f, create: f.create === true }));
  } else image = configMapData(config, 'SetImage', 'image');
  if (!image.name) throw new FunctionFailure('must specify `name`');
  if (!image.newName && !image.newTag && !image.digest) throw new FunctionFailure('must specify one of `newName`, `newTag`, or `digest`');
  if (image.newTag && image.digest) throw new FunctionFailure('image `newTag` and `digest` both set');
  return { image: { name: image.name, newName: image.newName || undefined, newTag: image.newTag || undefined, digest: image.digest || undefined }, fields };
}

/** name, and the `:tag` or `@digest` suffix, of an image reference (a registry port is not a tag). */
function split(ref: string): { name: string; suffix: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { name: ref.slice(0, at), suffix: ref.slice(at) };
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? { name: ref.slice(0, colon), suffix: ref.slice(colon) } : { name: ref, suffix: '' };
}

function replaced(ref: string, spec: ImageSpec): string | undefined {
  const { name, suffix } = split(ref);
  if (name !== spec.name) return undefined;
  const tag = spec.digest ? `@${spec.digest}` : spec.newTag ? `:${spec.newTag}` : suffix;
  return `${spec.newName ?? name}${tag}`;
}

export const setImage: BuiltinFunction = (items, config) => {
  const { image, fields } = specOf(config);
  let count = 0;
  const update = (doc: Document, path: string, create: boolean) => {
    const slash = path.lastIndexOf('/');
    const key = path.slice(slash + 1);
    visitMaps(doc, path.slice(0, slash), create, (m) => {
      const cur = m.get(key, true);
      if (!isScalar(cur) && !(cur === undefined && create)) return;
      const next = replaced(isScalar(cur) ? String(cur.value) : '', image);
      if (next === undefined || (isScalar(cur) && cur.value === next)) return;
      if (isScalar(cur)) cur.value = next;
      else m.set(key, next);
      count++;
    });
  };
  for (const doc of items) {
    const { group, version, kind } = gvk(doc);
    for (const p of DEFAULT_FIELDS) update(doc, p, false);
    for (const f of fields) {
      if ((f.group !== undefined && f.group !== group) || (f.version !== undefined && f.version !== version) || (f.kind !== undefined && f.kind !== kind)) continue;
      update(doc, f.path, f.create);
    }
  }
  return [{ message: `summary: updated a total of ${count} image(s)`, severity: 'info' }];
};
