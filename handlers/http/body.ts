import { checkNesting, nestingError } from '../../lib/api/nesting.ts';
import { PATCH_CONTENT_TYPES, type PatchType } from '../../lib/api/patch.ts';
import { decodeKubernetesProtobuf, PROTOBUF_MEDIA_TYPE } from '../../lib/api/protobuf/decode.ts';
import { errors, errMessage } from '../../lib/errors.ts';
import { isRecord } from '../../lib/util.ts';
import { parseAllDocuments } from '../../lib/yaml-parse.ts';
import type { HandlerContext } from './env.ts';

/**
 * A body over the limit is still read to its end (discarded), up to this many times the limit, before
 * the 413 goes out: a client still uploading when the server stops reading would see its connection
 * reset instead of the answer. Past that amount the upload is cut off.
 */
const DRAIN_FACTOR = 4;

async function readBytes(c: HandlerContext, limit: number): Promise<Buffer> {
  const declared = Number(c.req.header('content-length') ?? '0');
  const body = c.req.raw.body;
  const drainLimit = DRAIN_FACTOR * limit;
  let over = declared > limit;
  if (body && !(declared > drainLimit)) {
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      total += r.value.byteLength;
      over ||= total > limit;
      if (total > drainLimit) break;
      if (!over) chunks.push(r.value);
    }
    if (!over) return Buffer.concat(chunks);
    if (total > drainLimit) await reader.cancel().catch(() => undefined);
  } else await body?.cancel().catch(() => undefined);
  if (over) throw errors.tooLarge(limit);
  return Buffer.alloc(0);
}

async function readText(c: HandlerContext, limit: number): Promise<string> {
  return new TextDecoder('utf-8', { fatal: false }).decode(await readBytes(c, limit));
}

function mediaType(c: HandlerContext): string {
  return (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
}

function parse(text: string, yaml: boolean): unknown {
  const value = decode(text, yaml);
  checkNesting(value);
  return value;
}

function decode(text: string, yaml: boolean): unknown {
  if (!text.trim()) throw errors.badRequest('the request body is empty');
  try {
    if (yaml) {
      const docs = parseAllDocuments(text);
      if (docs.length !== 1) throw new Error('expected exactly one YAML document');
      if (docs[0].errors.length) throw new Error(docs[0].errors[0].message);
      return docs[0].toJS({ maxAliasCount: 100 });
    }
    return JSON.parse(text);
  } catch (err) {
    throw nestingError(err) ?? errors.badRequest(`the request body could not be decoded as ${yaml ? 'YAML' : 'JSON'}: ${errMessage(err)}`);
  }
}

function objectFrom(c: HandlerContext, bytes: Buffer): Record<string, unknown> {
  const type = mediaType(c);
  if (type === PROTOBUF_MEDIA_TYPE) return decodeKubernetesProtobuf(bytes);
  const yaml = type === 'application/yaml' || type === 'application/x-yaml' || type === 'text/yaml';
  if (type && type !== 'application/json' && !yaml) throw errors.unsupportedMediaType(type);
  const value = parse(new TextDecoder('utf-8', { fatal: false }).decode(bytes), yaml);
  if (!isRecord(value)) throw errors.badRequest('the request body must be an object');
  return value;
}

/** The body of a create/update: a JSON or YAML object. */
export async function readObjectBody(c: HandlerContext, limit: number): Promise<Record<string, unknown>> {
  return objectFrom(c, await readBytes(c, limit));
}

/** A body that may be left out (a DELETE's DeleteOptions): undefined when there is none. */
export async function readOptionalObjectBody(c: HandlerContext, limit: number): Promise<Record<string, unknown> | undefined> {
  const bytes = await readBytes(c, limit);
  return bytes.length ? objectFrom(c, bytes) : undefined;
}

/** The body of a PATCH: its type comes from the Content-Type header. */
export async function readPatchBody(c: HandlerContext, limit: number): Promise<{ type: PatchType; patch: unknown }> {
  const media = mediaType(c);
  const type = PATCH_CONTENT_TYPES[media];
  if (!type) {
    if (media === 'application/apply-patch+yaml')
      throw errors.unsupportedMediaType(`${media} (server-side apply is not supported; use client-side kubectl apply)`);
    throw errors.unsupportedMediaType(media);
  }
  return { type, patch: parse(await readText(c, limit), false) };
}
