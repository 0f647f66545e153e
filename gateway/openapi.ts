import { Hono, type Context } from 'hono';
import { openapiV2, openapiV3, openapiV3Index, v3Key, type ServedDocument } from '../lib/api/openapi.ts';
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

function groupVersionDocument(c: Context, group: string, version: string): Response {
  if (!acceptsJson(c.req.header('accept'))) return notAcceptable();
  const served = openapiV3(group, version);
  if (!served) return statusResponse(errors.pathNotFound());
  const hash = c.req.query('hash');
  if (hash === undefined) return documentResponse(c, served, 'no-cache, private');
  // A link from an older index: send the client to the current document, as kube-apiserver does.
  if (hash !== served.hash)
    return new Response(null, { status: 301, headers: { location: `/openapi/v3/${v3Key(group, version)}?hash=${served.hash}`, 'cache-control': 'no-cache, private' } });
  return documentResponse(c, served, 'public, immutable, max-age=31536000');
}

export function openapiRoutes(): Hono {
  const app = new Hono();
  app.get('/openapi/v2', (c) => {
    if (!acceptsJson(c.req.header('accept'))) return notAcceptable();
    return documentResponse(c, openapiV2(), 'no-cache, private');
  });
  app.get('/openapi/v3', (c) => {
    if (!acceptsJson(c.req.header('accept'))) return notAcceptable();
    return documentResponse(c, openapiV3Index(), 'no-cache, private');
  });
  app.get('/openapi/v3/api/:version', (c) => groupVersionDocument(c, '', c.req.param('version')));
  app.get('/openapi/v3/apis/:group/:version', (c) => groupVersionDocument(c, c.req.param('group'), c.req.param('version')));
  return app;
}
