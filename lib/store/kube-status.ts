import { errors, StatusError, type StatusCause, type StatusDetails, type StatusReason, errMessage } from '../errors.ts';
import { isRecord } from '../util.ts';

// kube-apiserver answers every failed request with a Status. Cluster mode hands those on to its own
// clients unchanged (a 409 from etcd's optimistic concurrency is still a 409 to kubectl), so they are
// turned into StatusErrors field by field rather than into a generic 500.

const KNOWN_REASONS: readonly StatusReason[] = [
  'BadRequest',
  'Unauthorized',
  'Forbidden',
  'NotFound',
  'AlreadyExists',
  'Conflict',
  'Gone',
  'Expired',
  'Invalid',
  'MethodNotAllowed',
  'NotAcceptable',
  'UnsupportedMediaType',
  'RequestEntityTooLarge',
  'TooManyRequests',
  'InternalError',
  'ServiceUnavailable',
  'Timeout',
];

/** The reason kube-apiserver gives a bare HTTP code (k8s.io/apimachinery's NewGenericServerResponse). */
export function reasonForCode(code: number): StatusReason {
  switch (code) {
    case 400:
      return 'BadRequest';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 405:
      return 'MethodNotAllowed';
    case 406:
      return 'NotAcceptable';
    case 409:
      return 'Conflict';
    case 410:
      return 'Expired';
    case 413:
      return 'RequestEntityTooLarge';
    case 415:
      return 'UnsupportedMediaType';
    case 422:
      return 'Invalid';
    case 429:
      return 'TooManyRequests';
    case 503:
      return 'ServiceUnavailable';
    case 504:
      return 'Timeout';
    default:
      return 'InternalError';
  }
}

function readCauses(v: unknown): StatusCause[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: StatusCause[] = [];
  for (const c of v) {
    if (!isRecord(c)) continue;
    const cause: StatusCause = { message: typeof c.message === 'string' ? c.message : '' };
    if (typeof c.reason === 'string') cause.reason = c.reason;
    if (typeof c.field === 'string') cause.field = c.field;
    out.push(cause);
  }
  return out;
}

function readDetails(v: unknown): StatusDetails | undefined {
  if (!isRecord(v)) return undefined;
  const d: StatusDetails = {};
  if (typeof v.name === 'string') d.name = v.name;
  if (typeof v.group === 'string') d.group = v.group;
  if (typeof v.kind === 'string') d.kind = v.kind;
  const causes = readCauses(v.causes);
  if (causes) d.causes = causes;
  if (typeof v.retryAfterSeconds === 'number') d.retryAfterSeconds = v.retryAfterSeconds;
  return Object.keys(d).length > 0 ? d : undefined;
}

/**
 * The StatusError for a failed response: the Status it carries, field for field, or (for a body that
 * is no Status, e.g. from a proxy in between) one made from the HTTP code.
 */
export function statusErrorFromResponse(httpCode: number, body: unknown): StatusError {
  if (isRecord(body) && body.kind === 'Status') {
    const code = typeof body.code === 'number' && body.code >= 400 ? body.code : httpCode;
    const given = typeof body.reason === 'string' ? body.reason : '';
    const reason = (KNOWN_REASONS as readonly string[]).includes(given) ? (given as StatusReason) : reasonForCode(code);
    const message = typeof body.message === 'string' && body.message ? body.message : `the server responded with HTTP ${code}`;
    return new StatusError(code, reason, message, readDetails(body.details));
  }
  const text = typeof body === 'string' ? body.trim().slice(0, 500) : '';
  return new StatusError(httpCode, reasonForCode(httpCode), text || `the server responded with HTTP ${httpCode}`);
}

/** A request that never got an answer: the API server is unreachable (503) or too slow (504). */
export function statusErrorFromNetwork(err: unknown, what: string): StatusError {
  if (err instanceof StatusError) return err;
  const name = err instanceof Error ? err.name : '';
  const message = errMessage(err);
  if (name === 'AbortError' || name === 'TimeoutError') return errors.timeout(`${what}: the Kubernetes API server did not answer in time`);
  return errors.unavailable(`${what}: the Kubernetes API server is unreachable: ${message}`, 1);
}
