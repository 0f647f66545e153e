import type { KubeObject } from '../../lib/api/meta.ts';
import { listJsonStream, objectJson } from '../../lib/api/object-json.ts';
import { inKeyOrder } from '../../lib/api/order.ts';
import { apiVersionOf, type ResourceDescriptor } from '../../lib/api/resources.ts';
import { tableRow, toTable, type IncludeObject } from '../../lib/api/table.ts';
import { errors, toStatusError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import type { HandlerContext } from './env.ts';

export const JSON_TYPE = 'application/json';

/**
 * The body goes out as UTF-8 bytes, encoded once here: handed a string, node's HTTP layer joins it to
 * the headers and re-encodes it on the socket, which for a list of thousands of objects costs about as
 * much again as serialising it.
 */
export function jsonResponse(body: unknown, code = 200, contentType = JSON_TYPE): Response {
  return jsonTextResponse(JSON.stringify(body), code, { 'content-type': contentType });
}

function jsonTextResponse(text: string, code = 200, headers: Record<string, string> = { 'content-type': JSON_TYPE }): Response {
  return new Response(Buffer.from(text), { status: code, headers });
}

export function statusResponse(err: unknown, log?: Logger): Response {
  const se = toStatusError(err);
  if (se.code >= 500 && log) log.error('request failed', { code: se.code, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  const headers: Record<string, string> = { 'content-type': JSON_TYPE };
  if (se.details?.retryAfterSeconds) headers['retry-after'] = String(se.details.retryAfterSeconds);
  return jsonTextResponse(JSON.stringify(se.toStatus()), se.code, headers);
}

interface MediaChoice {
  table: boolean;
}

/**
 * Content negotiation as kube-apiserver does it for JSON clients: kubectl asks for a
 * meta.k8s.io Table first and plain JSON as a fallback.
 */
export function negotiate(c: HandlerContext): MediaChoice {
  const accept = c.req.header('accept') ?? '';
  if (!accept) return { table: false };
  let jsonOk = false;
  for (const raw of accept.split(',')) {
    const [typ, ...params] = raw.trim().split(';').map((s) => s.trim());
    const p = new Map(params.map((x) => x.split('=') as [string, string]));
    if ((typ === 'application/json' || typ === '*/*' || typ === 'application/*') && p.get('as') === 'Table' && p.get('g') === 'meta.k8s.io')
      return { table: true };
    if ((typ === 'application/json' || typ === '*/*' || typ === 'application/*') && !p.has('as')) jsonOk = true;
    if (typ === 'application/yaml') jsonOk = true;
  }
  if (!jsonOk) throw errors.notAcceptable(`only the following media types are accepted: application/json, application/json;as=Table;v=v1;g=meta.k8s.io`);
  return { table: false };
}

function includeObject(c: HandlerContext): IncludeObject {
  const v = c.req.query('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

export function objectResponse(c: HandlerContext, res: ResourceDescriptor, obj: KubeObject, code = 200): Response {
  if (negotiate(c).table) return jsonResponse(toTable(res, [obj], obj.metadata.resourceVersion, includeObject(c)), code);
  return jsonTextResponse(objectJson(obj), code);
}

/**
 * Every list answers in namespace/name order, as kube-apiserver's do, whatever order its source kept, and
 * streams: JSON from each object's kept text, a Table row by row.
 */
export function listResponse(c: HandlerContext, res: ResourceDescriptor, items: KubeObject[], resourceVersion: string): Response {
  inKeyOrder(items);
  let body: ReadableStream<Uint8Array>;
  if (negotiate(c).table) {
    const include = includeObject(c);
    const now = Date.now();
    body = listJsonStream(toTable(res, [], resourceVersion, include), items, { key: 'rows', text: (obj) => JSON.stringify(tableRow(res, obj, include, now)) });
  } else body = listJsonStream({ apiVersion: apiVersionOf(res), kind: res.listKind, metadata: { resourceVersion } }, items);
  return new Response(body, { status: 200, headers: { 'content-type': JSON_TYPE } });
}
