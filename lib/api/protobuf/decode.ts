import protobuf from 'protobufjs';
import { errors } from '../../errors.ts';
import { K8S_MESSAGES } from './k8s-messages.ts';

// kubectl sends built-in kinds as protobuf (`application/vnd.kubernetes.protobuf`): the magic `k8s\0`,
// then a runtime.Unknown whose typeMeta names the kind and whose raw holds the object's message. The
// object is turned into the JSON kube-apiserver would have received, so the rest of the request path
// (admission, validation, storage) stays one and JSON-only; answers go back as JSON, which kubectl
// accepts since it also lists application/json in Accept.

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

const MAGIC = [0x6b, 0x38, 0x73, 0x00];
const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';

/** The kinds accepted as protobuf (apiVersion/kind → message): the built-in kinds this server serves. */
const MESSAGES: Record<string, string> = {
  'v1/Namespace': 'k8s.io.api.core.v1.Namespace',
  'v1/Secret': 'k8s.io.api.core.v1.Secret',
  'authorization.k8s.io/v1/SelfSubjectAccessReview': 'k8s.io.api.authorization.v1.SelfSubjectAccessReview',
  'authorization.k8s.io/v1/SelfSubjectRulesReview': 'k8s.io.api.authorization.v1.SelfSubjectRulesReview',
  'authentication.k8s.io/v1/SelfSubjectReview': 'k8s.io.api.authentication.v1.SelfSubjectReview',
};

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

function isLong(v: unknown): v is { toNumber(): number } {
  return typeof v === 'object' && v !== null && typeof (v as { toNumber?: unknown }).toNumber === 'function';
}

/** A metav1.Time as its JSON form: RFC 3339 in whole seconds; the zero time is unset. */
function timeJson(m: Record<string, unknown>): Json | undefined {
  const s = m.seconds;
  const seconds = isLong(s) ? s.toNumber() : typeof s === 'number' ? s : 0;
  if (seconds === 0 && !m.nanos) return undefined;
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function scalarJson(field: protobuf.Field, value: unknown): Json | undefined {
  if (value instanceof Uint8Array) return value.length ? Buffer.from(value).toString('base64') : field.map ? '' : undefined;
  if (isLong(value)) return value.toNumber() || undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value || (field.map ? value : undefined);
  return undefined;
}

function valueJson(field: protobuf.Field, value: unknown): Json | undefined {
  const type = field.resolvedType;
  if (!(type instanceof protobuf.Type)) return scalarJson(field, value);
  return messageJson(type, value as Record<string, unknown>);
}

/**
 * A decoded message as Kubernetes JSON. Go's encoder writes every non-pointer field, zero or not, and
 * the JSON of these kinds omits empty values, so zero values are left out here too.
 */
function messageJson(type: protobuf.Type, m: Record<string, unknown>): Json | undefined {
  switch (type.fullName) {
    case `.${META}.Time`:
      return timeJson(m);
    case `.${META}.FieldsV1`:
      return m.Raw instanceof Uint8Array && m.Raw.length ? (JSON.parse(Buffer.from(m.Raw).toString('utf8')) as Json) : undefined;
    case '.k8s.io.api.authentication.v1.ExtraValue':
      return Array.isArray(m.items) ? (m.items as string[]) : [];
  }
  const out: { [key: string]: Json } = {};
  for (const field of type.fieldsArray) {
    if (!Object.prototype.hasOwnProperty.call(m, field.name)) continue;
    const value = m[field.name];
    let json: Json | undefined;
    if (field.map) {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length) json = Object.fromEntries(entries.map(([k, v]) => [k, valueJson(field, v) ?? null]));
    } else if (field.repeated) {
      const items = (value as unknown[]).map((v) => valueJson(field, v) ?? null);
      if (items.length) json = items;
    } else json = valueJson(field, value);
    if (json !== undefined) out[field.name] = json;
  }
  return Object.keys(out).length ? out : undefined;
}

function isEnvelope(body: Uint8Array): boolean {
  return body.length >= MAGIC.length && MAGIC.every((b, i) => body[i] === b);
}

/** The object a Kubernetes protobuf request body carries, as JSON; 400 if malformed, 415 for a kind not accepted so. */
export function decodeKubernetesProtobuf(body: Uint8Array): Record<string, unknown> {
  if (!isEnvelope(body)) throw errors.badRequest(`the request body is not a Kubernetes protobuf object (it must start with "k8s\\x00")`);
  let unknown: Record<string, unknown>;
  try {
    unknown = K8S_MESSAGES.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown').decode(body.subarray(MAGIC.length)) as unknown as Record<string, unknown>;
  } catch (err) {
    throw errors.badRequest(`the request body could not be decoded as protobuf: ${err instanceof Error ? err.message : String(err)}`);
  }
  const typeMeta = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const apiVersion = typeMeta.apiVersion ?? '';
  const kind = typeMeta.kind ?? '';
  if (unknown.contentEncoding) throw errors.unsupportedMediaType(`${PROTOBUF_MEDIA_TYPE} with content encoding "${String(unknown.contentEncoding)}"`);
  const message = MESSAGES[`${apiVersion}/${kind}`];
  if (!message)
    throw errors.unsupportedMediaType(
      `${PROTOBUF_MEDIA_TYPE} for ${kind || 'an object without kind'} (${apiVersion || 'no apiVersion'}): protobuf is accepted for ${Object.keys(MESSAGES).join(', ')}; send other kinds as application/json`,
    );
  const raw = unknown.raw instanceof Uint8Array ? unknown.raw : new Uint8Array();
  const type = K8S_MESSAGES.lookupType(message);
  let obj: Json | undefined;
  try {
    obj = messageJson(type, type.decode(raw) as unknown as Record<string, unknown>);
  } catch (err) {
    throw errors.badRequest(`the ${kind} in the request body could not be decoded as protobuf: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { apiVersion, kind, ...(obj !== null && typeof obj === 'object' && !Array.isArray(obj) ? obj : {}) };
}
