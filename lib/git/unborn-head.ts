import type { GitHttpResponse } from 'isomorphic-git';

// A repository whose HEAD names a branch that does not exist (HEAD → master, only main pushed) is
// advertised by git without a HEAD line. isomorphic-git's fetch then fails with "Could not find
// HEAD" after the transfer, though it fetched the ref asked for. Porch reads such a repository by
// its spec.git.branch, so the advertisement handed to isomorphic-git gets a HEAD line (on the
// first branch's commit, carrying the capabilities); nothing here reads HEAD's value.

const ZERO = '0'.repeat(40);

function pkt(payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from((payload.length + 4).toString(16).padStart(4, '0')), payload]);
}

/** The pkt-lines of an advertisement, flushes as empty buffers; undefined when it does not parse. */
function lines(body: Buffer): Buffer[] | undefined {
  const out: Buffer[] = [];
  for (let at = 0; at < body.length; ) {
    const len = Number.parseInt(body.subarray(at, at + 4).toString(), 16);
    if (!Number.isFinite(len) || (len > 0 && len < 4) || at + Math.max(len, 4) > body.length) return undefined;
    out.push(len === 0 ? Buffer.alloc(0) : body.subarray(at + 4, at + len));
    at += Math.max(len, 4);
  }
  return out;
}

function withHead(body: Buffer): Buffer | undefined {
  const all = lines(body);
  if (!all) return undefined;
  // "# service=git-upload-pack", flush, then the refs: the first carries the capabilities.
  const first = all.findIndex((l, i) => i > 0 && l.length > 0 && !l.toString().startsWith('#'));
  if (first < 0) return undefined;
  const line = all[first].toString();
  const nul = line.indexOf('\0');
  if (nul < 0) return undefined;
  const [oid, name] = line.slice(0, nul).split(' ');
  if (name === 'HEAD' || oid === ZERO) return undefined;
  const branch = all.slice(first).map((l) => l.toString().split('\0')[0].trim().split(' ')).find(([, ref]) => ref?.startsWith('refs/heads/'));
  if (!branch) return undefined;
  const head = pkt(Buffer.from(`${branch[0]} HEAD\0${line.slice(nul + 1)}`));
  const rest = pkt(Buffer.from(`${line.slice(0, nul)}\n`));
  const before = all.slice(0, first).map((l) => (l.length ? pkt(l) : Buffer.from('0000')));
  const after = all.slice(first + 1).map((l) => (l.length ? pkt(l) : Buffer.from('0000')));
  return Buffer.concat([...before, head, rest, ...after]);
}

async function collect(body: AsyncIterableIterator<Uint8Array> | undefined): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  if (body) for await (const part of body) parts.push(part);
  return Buffer.concat(parts);
}

export async function* once(buf: Buffer): AsyncIterableIterator<Uint8Array> {
  yield buf;
}

/** Whether a request is the upload-pack advertisement (the refs a fetch or a listing starts from). */
export function isAdvertisement(requestUrl: string): boolean {
  return /\/info\/refs\?service=git-upload-pack$/.test(requestUrl);
}

/** The response, with a HEAD line added to an upload-pack advertisement that has none; its body is read whole. */
export async function adviseHead(requestUrl: string, res: GitHttpResponse): Promise<GitHttpResponse & { whole?: Buffer }> {
  if (res.statusCode !== 200 || !isAdvertisement(requestUrl)) return res;
  const body = await collect(res.body);
  const whole = withHead(body) ?? body;
  return { ...res, body: once(whole), whole };
}
