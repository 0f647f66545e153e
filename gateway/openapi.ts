import { Hono } from 'hono';

/** Placeholder until the OpenAPI generator lands: no documents. */
export function openapiRoutes(): Hono {
  return new Hono();
}
