import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

// Smart-HTTP git for tests: node:http in front of the real `git http-backend` CGI, so clients talk to
// the same server code a production git host runs. Every bare repository under `root` is served as
// /<relative path>; pushes are allowed.

export interface GitServerOptions {
  root: string;
  /** With a username, every request needs matching basic auth (or the bearer token when one is set). */
  username?: string;
  password?: string;
  /** Accept `Authorization: Bearer <token>` as well as (or instead of) basic auth. */
  bearerToken?: string;
}

export interface GitServer {
  url: string;
  port: number;
  /** Requests answered so far, as `<METHOD> <path>?<query>`, plus ` (<content-encoding>)` when the body was encoded. */
  readonly requests: string[];
  /** Stop listening and cut open connections (running CGI processes are killed). */
  stop(): Promise<void>;
  /** Listen again on the same port. */
  restart(): Promise<void>;
  /** Change the accepted credentials (e.g. to simulate a rotated password). */
  setCredentials(username: string | undefined, password?: string, bearerToken?: string): void;
  /**
   * Hold the next request whose `<METHOD> <path>?<query>` matches: it is accepted (body and all) but
   * never answered, so a test can stop() the server while a client is in the middle of, e.g., a push.
   * Resolves once such a request has arrived.
   */
  holdNext(match: RegExp): Promise<void>;
}

function authorised(req: IncomingMessage, creds: { username?: string; password?: string; bearerToken?: string }): boolean {
  if (creds.username === undefined && creds.bearerToken === undefined) return true;
  const header = req.headers.authorization ?? '';
  if (creds.bearerToken !== undefined && header === `Bearer ${creds.bearerToken}`) return true;
  if (creds.username === undefined || !header.startsWith('Basic ')) return false;
  return Buffer.from(header.slice(6), 'base64').toString('utf8') === `${creds.username}:${creds.password ?? ''}`;
}

/** Copy the CGI response (headers, blank line, body) onto the HTTP response. */
function relay(cgi: ChildProcess, res: ServerResponse): void {
  let head: Buffer | undefined = Buffer.alloc(0);
  cgi.stdout!.on('data', (chunk: Buffer) => {
    if (!head) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    let status = 200;
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
      else res.setHeader(name, value);
    }
    res.writeHead(status);
    const rest = head.subarray(end + 4);
    head = undefined;
    if (rest.length) res.write(rest);
  });
  cgi.on('close', () => {
    if (head && !res.headersSent) res.writeHead(502);
    res.end();
  });
}

export async function startGitServer(opts: GitServerOptions): Promise<GitServer> {
  const creds = { username: opts.username, password: opts.password, bearerToken: opts.bearerToken };
  const requests: string[] = [];
  const children = new Set<ChildProcess>();
  const sockets = new Set<Socket>();
  const holds: { match: RegExp; arrived: () => void }[] = [];

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const encoding = req.headers['content-encoding'];
    requests.push(`${req.method} ${url.pathname}${url.search}${encoding ? ` (${encoding})` : ''}`);
    const held = holds.findIndex((h) => h.match.test(`${req.method} ${url.pathname}${url.search}`));
    if (held >= 0) {
      const [h] = holds.splice(held, 1);
      // Read the whole body first so the client has sent everything it means to before it waits.
      req.on('end', h.arrived);
      req.resume();
      return;
    }
    if (!authorised(req, creds)) {
      req.resume();
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"', 'Content-Type': 'text/plain' });
      res.end('authentication required\n');
      return;
    }
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GIT_PROJECT_ROOT: opts.root,
      GIT_HTTP_EXPORT_ALL: '1',
      // receive-pack is refused to anonymous users unless http.receivepack is set; set both.
      REMOTE_USER: creds.username ?? 'anonymous',
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      GIT_HTTP_MAX_REQUEST_BUFFER: '1000M',
    };
    if (req.headers['content-length'] !== undefined) env.CONTENT_LENGTH = req.headers['content-length'];
    if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = String(req.headers['content-encoding']);
    if (req.headers['git-protocol']) env.GIT_PROTOCOL = String(req.headers['git-protocol']);
    const cgi = spawn('git', ['-c', 'http.receivepack=true', '-c', 'http.uploadpack=true', 'http-backend'], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    children.add(cgi);
    cgi.on('close', () => children.delete(cgi));
    cgi.on('error', () => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
    cgi.stdin!.on('error', () => undefined);
    req.pipe(cgi.stdin!);
    relay(cgi, res);
  };

  let server: Server | undefined;
  const listen = async (port: number) => {
    const s = createServer(handle);
    s.on('connection', (sock) => {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
    });
    await new Promise<void>((ok, fail) => {
      s.once('error', fail);
      s.listen(port, '127.0.0.1', () => ok());
    });
    server = s;
    return (s.address() as AddressInfo).port;
  };
  const port = await listen(0);

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      for (const c of children) c.kill('SIGKILL');
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((ok) => s.close(() => ok()));
    },
    async restart() {
      if (server) return;
      await listen(port);
    },
    setCredentials(username, password, bearerToken) {
      creds.username = username;
      creds.password = password;
      creds.bearerToken = bearerToken;
    },
    holdNext(match) {
      return new Promise<void>((arrived) => holds.push({ match, arrived }));
    },
  };
}
