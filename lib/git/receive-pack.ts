import { ZERO, type NetOptions } from './remote.ts';
import { GitConflictError, GitUnavailableError } from './types.ts';

// Several ref updates in one smart-HTTP receive-pack request: the command list (pkt-lines), the pack
// isomorphic-git's packObjects produced, and the report-status answer. isomorphic-git's push moves
// one ref per call and first fetches the ref advertisement; a lifecycle step moves two or three refs,
// and the old values it sends come from the mirror, which receive-pack checks under its ref locks, so
// no advertisement round trip is needed. `atomic` makes git apply all or none; a server that does not
// support it ignores the request and reports per ref, which is handled the same way.

export interface RefUpdate {
  ref: string;
  /** undefined: delete the ref. */
  value: string | undefined;
  /** undefined: the ref must not exist. */
  expected: string | undefined;
}

export interface PushReport {
  /** Refs the remote updated. */
  ok: string[];
  /** Refs the remote refused, with its reason. */
  rejected: Map<string, string>;
}

const FLUSH = Buffer.from('0000', 'latin1');
const CAPABILITIES = 'report-status atomic agent=porch-ts';

function pktLine(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from((body.length + 4).toString(16).padStart(4, '0'), 'latin1'), body]);
}

/** The request body: one command per ref (capabilities after the first), a flush, then the pack. */
export function receivePackRequest(updates: readonly RefUpdate[], pack: Uint8Array | undefined): Buffer {
  const lines = updates.map((u, i) => pktLine(`${u.expected ?? ZERO} ${u.value ?? ZERO} ${u.ref}${i === 0 ? `\0${CAPABILITIES}` : ''}\n`));
  return Buffer.concat([...lines, FLUSH, ...(pack ? [pack] : [])]);
}

/** pkt-line payloads of `body` up to the first flush. */
function pktLines(body: Buffer): string[] {
  const out: string[] = [];
  let pos = 0;
  while (pos + 4 <= body.length) {
    const len = Number.parseInt(body.toString('latin1', pos, pos + 4), 16);
    if (!Number.isFinite(len)) throw new Error('malformed pkt-line length');
    if (len === 0) break;
    if (len < 4 || pos + len > body.length) throw new Error('truncated pkt-line');
    out.push(body.toString('utf8', pos + 4, pos + len).replace(/\n$/, ''));
    pos += len;
  }
  return out;
}

/** The report-status answer; GitUnavailableError when the remote could not take the pack at all. */
export function parseReportStatus(body: Buffer, where: string): PushReport {
  let lines: string[];
  try {
    lines = pktLines(body);
  } catch (err) {
    throw new GitUnavailableError(`${where}: unreadable push report (${(err as Error).message})`);
  }
  const unpack = lines.find((l) => l.startsWith('unpack '));
  if (unpack === undefined) throw new GitUnavailableError(`${where}: the remote sent no push report`);
  if (unpack !== 'unpack ok') throw new GitUnavailableError(`${where}: the remote could not store the pushed objects: ${unpack.slice(7)}`);
  const report: PushReport = { ok: [], rejected: new Map() };
  for (const l of lines) {
    if (l.startsWith('ok ')) report.ok.push(l.slice(3));
    else if (l.startsWith('ng ')) {
      const rest = l.slice(3);
      const sp = rest.indexOf(' ');
      report.rejected.set(sp < 0 ? rest : rest.slice(0, sp), sp < 0 ? 'rejected' : rest.slice(sp + 1));
    }
  }
  return report;
}

async function readAll(body: AsyncIterableIterator<Uint8Array> | undefined): Promise<Buffer> {
  const parts: Buffer[] = [];
  if (body) for await (const chunk of body) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

/** POST one receive-pack request; the report says which refs moved. */
export async function receivePack(o: NetOptions, updates: readonly RefUpdate[], pack: Uint8Array | undefined): Promise<PushReport> {
  const where = `push to ${o.url}`;
  const res = await o.http.request({
    url: `${o.url}/git-receive-pack`,
    method: 'POST',
    headers: { ...o.headers, 'content-type': 'application/x-git-receive-pack-request', accept: 'application/x-git-receive-pack-result' },
    // isomorphic-git's node client sends an array body as one buffer with a Content-Length (its type
    // only names the streaming form).
    body: [receivePackRequest(updates, pack)] as unknown as AsyncIterableIterator<Uint8Array>,
  });
  const body = await readAll(res.body);
  if (res.statusCode === 401 || res.statusCode === 403)
    throw new GitUnavailableError(`${where}: authentication failed (HTTP ${res.statusCode}); check the credentials in the Repository's secretRef`, true);
  if (res.statusCode !== 200) throw new GitUnavailableError(`${where}: HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim());
  return parseReportStatus(body, where);
}

/** Every update applied, or a GitConflictError naming what the remote refused (nothing moved if it did atomically). */
export function requireAll(report: PushReport, updates: readonly RefUpdate[], where: string): void {
  if (!report.rejected.size && updates.every((u) => report.ok.includes(u.ref))) return;
  const why = [...report.rejected].map(([ref, reason]) => `${ref}: ${reason}`).join('; ');
  throw new GitConflictError(`${where}: the remote refused the update (${why || 'no status for some refs'})`);
}
