import { createHash } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { openapiV2, openapiV3, openapiV3Index, v3Key, type ServedDocument } from '../lib/api/openapi.ts';
import { RESOURCES, type ResourceDescriptor } from '../lib/api/resources.ts';
import { errors } from '../lib/errors.ts';
import { statusResponse } from '../handlers/http/respond.ts';

// /openapi/v2 and /openapi/v3 as kube-apiserver serves them, JSON only. kubectl asks for v2 in
// protobuf alone; answering 406 makes it give up on v2 cleanly, which is harmless because the v3
// documents advertise fieldValidation and kubectl then leaves validation to the server.

/** Whether an Accept header admits a JSON answer (no header at all admits anything). */
function acceptsJson(accept: string | undefined): boolean {
  if (!accept || !accept.trim()) return true;
  return accept.split(',').some((part) => {
    const type = part.split(';')[0].trim().toLowerCase();
    return type === 'application/json' || type === 'application/*' || type === '*/*';
  });
}

function notAcceptable(): Response {
  return statusResponse(errors.notAcceptable('only the following media types are accepted: application/json'));
}

function documentResponse(c: Context, served: ServedDocument, cacheControl: string): Response {
  const headers: Record<string, string> = { etag: served.etag, 'cache-control': cacheControl, vary: 'Accept' };
  const match = c.req.header('if-none-match');
  if (match && match.split(',').some((t) => t.trim() === served.etag || t.trim() === '*')) return new Response(null, { status: 304, headers });
  return new Response(served.body, { status: 200, headers: { ...headers, 'content-type': 'application/json' } });
}

function groupVersionDocument(c: Context, group: string, version: string, isServed: (key: string) => boolean): Response {
  if (!acceptsJson(c.req.header('accept'))) return notAcceptable();
  const served = isServed(v3Key(group, version)) ? openapiV3(group, version) : undefined;
  if (!served) return statusResponse(errors.pathNotFound());
  const hash = c.req.query('hash');
  if (hash === undefined) return documentResponse(c, served, 'no-cache, private');
  // A link from an older index: send the client to the current document, as kube-apiserver does.
  if (hash !== served.hash)
    return new Response(null, { status: 301, headers: { location: `/openapi/v3/${v3Key(group, version)}?hash=${served.hash}`, 'cache-control': 'no-cache, private' } });
  return documentResponse(c, served, 'public, immutable, max-age=31536000');
}

/** A document narrowed to some of its paths, hashed as lib/api/openapi.ts hashes the full ones. */
function narrowed(doc: ServedDocument['doc'], keep: (path: string) => boolean): ServedDocument {
  const paths = Object.fromEntries(Object.entries((doc.paths ?? {}) as Record<string, unknown>).filter(([p]) => keep(p)));
  const next = { ...doc, paths } as ServedDocument['doc'];
  const body = JSON.stringify(next);
  const hash = createHash('sha512').update(body).digest('hex').toUpperCase();
  return { doc: next, body, hash, etag: `"${hash}"` };
}

/** OpenAPI of the resources this process serves (all of them in dev mode). */
export function openapiRoutes(served: ResourceDescriptor[] = RESOURCES): Hono {
  const app = new Hono();
  const keys = new Set(served.map((r) => v3Key(r.group, r.version)));
  const everything = RESOURCES.every((r) => served.includes(r));
  const isServed = (key: string) => keys.has(key);
  // In cluster mode the CRDs' group-versions belong to kube-apiserver: left out of the index and of v2.
  const prefixes = [...keys].map((k) => `/${k}/`);
  let v2: ServedDocument | undefined;
  let v3Index: ServedDocument | undefined;
  const v2Doc = () => (everything ? openapiV2() : (v2 ??= narrowed(openapiV2().doc, (p) => prefixes.some((pre) => p.startsWith(pre)))));
  const v3IndexDoc = () => (everything ? openapiV3Index() : (v3Index ??= narrowed(openapiV3Index().doc, isServed)));
  app.get('/openapi/v2', (c) => {
    if (!acceptsJson(c.req.header('accept'))) return notAcceptable();
    return documentResponse(c, v2Doc(), 'no-cache, private');
  });
  app.get('/openapi/v3', (c) => {
    if (!acceptsJson(c.req.header('accept'))) return notAcceptable();
    return documentResponse(c, v3IndexDoc(), 'no-cache, private');
  });
  app.get('/openapi/v3/api/:version', (c) => groupVersionDocument(c, '', c.req.param('version'), isServed));
  app.get('/openapi/v3/apis/:group/:version', (c) => groupVersionDocument(c, c.req.param('group'), c.req.param('version'), isServed));
  return app;
}
