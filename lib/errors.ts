import { redactUrls } from './redact.ts';

// One error type for the whole server: anything thrown from lib/ that should reach a client as a
// Kubernetes Status is a StatusError; everything else becomes a 500 InternalError at the edge.

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout';

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

export class StatusError extends Error {
  readonly details?: StatusDetails;

  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    details?: StatusDetails,
  ) {
    // Messages often quote a repository URL, which may carry credentials.
    super(redactUrls(message));
    this.name = 'StatusError';
    this.details = details?.causes ? { ...details, causes: details.causes.map((c) => ({ ...c, message: redactUrls(c.message) })) } : details;
  }

  toStatus(): Status {
    const s: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) s.details = this.details;
    return s;
  }
}

export interface GroupResource {
  group: string;
  resource: string;
}

function qualified(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

export const errors = {
  badRequest: (message: string, causes?: StatusCause[]) =>
    new StatusError(400, 'BadRequest', message, causes ? { causes } : undefined),
  unauthorized: (message = 'Unauthorized') => new StatusError(401, 'Unauthorized', message),
  forbidden: (gr: GroupResource, name: string, why: string) =>
    new StatusError(403, 'Forbidden', `${qualified(gr)}${name ? ` "${name}"` : ''} is forbidden: ${why}`, {
      name: name || undefined,
      group: gr.group,
      kind: gr.resource,
    }),
  notFound: (gr: GroupResource, name: string) =>
    new StatusError(404, 'NotFound', `${qualified(gr)} "${name}" not found`, { name, group: gr.group, kind: gr.resource }),
  alreadyExists: (gr: GroupResource, name: string, why?: string) =>
    new StatusError(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists${why ? `: ${why}` : ''}`, {
      name,
      group: gr.group,
      kind: gr.resource,
    }),
  pathNotFound: () => new StatusError(404, 'NotFound', 'the server could not find the requested resource'),
  conflict: (gr: GroupResource, name: string, why: string) =>
    new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${why}`, {
      name,
      group: gr.group,
      kind: gr.resource,
    }),
  staleResourceVersion: (gr: GroupResource, name: string) =>
    errors.conflict(gr, name, 'the object has been modified; please apply your changes to the latest version and try again'),
  invalid: (kind: string, group: string, name: string, causes: StatusCause[]) =>
    new StatusError(
      422,
      'Invalid',
      `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join(', ')}`,
      { name, group, kind, causes: causes.map((c) => ({ reason: c.reason ?? 'FieldValueInvalid', ...c })) },
    ),
  /** A well-formed request that cannot be carried out on the object as it is (kube's bare 422). */
  unprocessable: (message: string) => new StatusError(422, 'Invalid', message),
  gone: (message: string) => new StatusError(410, 'Expired', message),
  methodNotAllowed: (verb: string, gr: GroupResource) =>
    new StatusError(405, 'MethodNotAllowed', `${verb} is not supported on resources of kind "${qualified(gr)}"`, {
      group: gr.group,
      kind: gr.resource,
    }),
  notAcceptable: (message: string) => new StatusError(406, 'NotAcceptable', message),
  unsupportedMediaType: (contentType: string) =>
    new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/merge-patch+json, application/json-patch+json; got ${contentType || 'none'}`),
  tooLarge: (limit: number) => new StatusError(413, 'RequestEntityTooLarge', `the request body is too large: the limit is ${limit} bytes`),
  internal: (message: string) => new StatusError(500, 'InternalError', `Internal error occurred: ${message}`),
  unavailable: (message: string, retryAfterSeconds?: number) =>
    new StatusError(503, 'ServiceUnavailable', message, retryAfterSeconds ? { retryAfterSeconds } : undefined),
  timeout: (message: string) => new StatusError(504, 'Timeout', message),
};

export function toStatusError(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  const message = errMessage(err);
  return errors.internal(message);
}

/** The text of anything thrown: an Error's message, or the value itself. */
export function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
