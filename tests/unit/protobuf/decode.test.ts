import { describe, expect, it } from 'vitest';
import { decodeKubernetesProtobuf } from '../../../lib/api/protobuf/decode.ts';
import { K8S_MESSAGES } from '../../../lib/api/protobuf/k8s-messages.ts';
import { StatusError } from '../../../lib/errors.ts';

// Bodies built as Go's client encodes them: `k8s\0` + runtime.Unknown{typeMeta, raw}, with every
// non-pointer field written even when empty (so zero values must not come out as set).

const root = K8S_MESSAGES;

function envelope(apiVersion: string, kind: string, message: string, value: Record<string, unknown>, extra: Record<string, unknown> = {}): Uint8Array {
  const raw = root.lookupType(message).encode(value).finish();
  const unknown = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown').encode({ typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '', ...extra }).finish();
  return new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...unknown]);
}

const emptyMeta = (extra: Record<string, unknown>) => ({ generateName: '', namespace: '', selfLink: '', uid: '', resourceVersion: '', generation: 0, creationTimestamp: {}, ...extra });

function statusOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StatusError) return err;
    throw err;
  }
  throw new Error('expected a StatusError');
}

describe('Kubernetes protobuf request bodies', () => {
  it('a Secret as kubectl create secret generic sends it', () => {
    const body = envelope('v1', 'Secret', 'k8s.io.api.core.v1.Secret', {
      metadata: emptyMeta({ name: 'git-creds', namespace: 'team-a', labels: { app: 'x' }, creationTimestamp: { seconds: 0, nanos: 0 } }),
      data: { username: Buffer.from('alice'), empty: new Uint8Array() },
      type: 'Opaque',
    });
    expect(decodeKubernetesProtobuf(body)).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'git-creds', namespace: 'team-a', labels: { app: 'x' } },
      data: { username: Buffer.from('alice').toString('base64'), empty: '' },
      type: 'Opaque',
    });
  });

  it('a Namespace, with times, owner references and managed fields', () => {
    const body = envelope('v1', 'Namespace', 'k8s.io.api.core.v1.Namespace', {
      metadata: emptyMeta({
        name: 'team-a',
        generation: 3,
        deletionTimestamp: { seconds: 1700000000 },
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'o', uid: 'u', controller: true }],
        managedFields: [{ manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { Raw: Buffer.from('{"f:metadata":{}}') } }],
      }),
      spec: { finalizers: ['kubernetes'] },
      status: { phase: '' },
    });
    expect(decodeKubernetesProtobuf(body)).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'team-a',
        generation: 3,
        deletionTimestamp: '2023-11-14T22:13:20Z',
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'o', uid: 'u', controller: true }],
        managedFields: [{ manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': {} } }],
      },
      spec: { finalizers: ['kubernetes'] },
    });
  });

  it('the review kinds kubectl auth sends', () => {
    const ssar = envelope('authorization.k8s.io/v1', 'SelfSubjectAccessReview', 'k8s.io.api.authorization.v1.SelfSubjectAccessReview', {
      metadata: emptyMeta({ name: '' }),
      spec: { resourceAttributes: { namespace: 'team-a', verb: 'create', group: 'porch.kpt.dev', version: '', resource: 'packagerevisions', subresource: '', name: '' } },
      status: { allowed: false, reason: '', evaluationError: '' },
    });
    expect(decodeKubernetesProtobuf(ssar)).toEqual({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { namespace: 'team-a', verb: 'create', group: 'porch.kpt.dev', resource: 'packagerevisions' } },
    });
    const ssr = envelope('authentication.k8s.io/v1', 'SelfSubjectReview', 'k8s.io.api.authentication.v1.SelfSubjectReview', { metadata: emptyMeta({}) });
    expect(decodeKubernetesProtobuf(ssr)).toEqual({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
  });

  it('refuses kinds it does not serve (415), encodings (415) and bodies that are not an envelope (400)', () => {
    const pod = envelope('v1', 'Pod', 'k8s.io.api.core.v1.Namespace', { metadata: emptyMeta({ name: 'p' }) });
    const podErr = statusOf(() => decodeKubernetesProtobuf(pod));
    expect(podErr.code).toBe(415);
    expect(podErr.message).toContain('Pod');
    expect(podErr.message).toContain('application/json');
    const gz = envelope('v1', 'Secret', 'k8s.io.api.core.v1.Secret', {}, { contentEncoding: 'gzip' });
    expect(statusOf(() => decodeKubernetesProtobuf(gz)).code).toBe(415);
    expect(statusOf(() => decodeKubernetesProtobuf(new TextEncoder().encode('{"kind":"Secret"}'))).code).toBe(400);
    expect(statusOf(() => decodeKubernetesProtobuf(new Uint8Array([0x6b, 0x38, 0x73, 0x00, 0x0a, 0xff]))).code).toBe(400);
  });
});
