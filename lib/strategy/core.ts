import type { KubeObject } from '../api/meta.ts';
import type { Strategy } from './types.ts';

function mergeStringData(obj: KubeObject): void {
  const stringData = obj.stringData as Record<string, string> | null | undefined;
  if (stringData) {
    const data = { ...((obj.data as Record<string, string> | null | undefined) ?? {}) };
    for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(v, 'utf8').toString('base64');
    obj.data = data;
  }
  delete obj.stringData;
  obj.type ??= 'Opaque';
}

export const secretStrategy: Strategy = {
  prepareForCreate: mergeStringData,
  prepareForUpdate: mergeStringData,
};

export const namespaceStrategy: Strategy = {
  prepareForCreate(obj) {
    obj.status = { phase: 'Active' };
  },
  prepareForUpdate(obj, old) {
    obj.status = old.status;
  },
};
