import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitHttpServer {
  url: string;
  port: number;
  /** Stop serving (connections refused) until restart(). */
  stop(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The real `git http-backend` (smart HTTP, push enabled) behind a small node:http wrapper with
 * optional basic auth, serving every repository under `root` as /<name>.
 */
export async function startGitHttpServer(opts: { root: string; username?: string; password?: string }): Promise<GitHttpServer> {
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (opts.username !== undefined) {
      const want = 'Basic ' + Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64');
      if (req.headers.authorization !== want) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="git"', 'content-type': 'text/plain' });
        res.end('authentication required\n');
        return;
      }
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GIT_PROJECT_ROOT: opts.root,
      GIT_HTTP_EXPORT_ALL: '1',
      REMOTE_USER: opts.username ?? 'anonymous',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
      GIT_HTTP_MAX_REQUEST_BUFFER: '100M',
    };
    const cgi = spawn('git', ['-c', 'http.receivepack=true', 'http-backend'], { env });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString('utf8').split('\r\n')) {
        const i = line.indexOf(':');
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === 'status') status = Number.parseInt(v, 10);
        else res.setHeader(k, v);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    cgi.on('close', () => res.end());
    cgi.on('error', () => {
      res.writeHead(500);
      res.end();
    });
  };

  let server: Server = createServer(handle);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  const close = () =>
    new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stop: close,
    restart: async () => {
      server = createServer(handle);
      await new Promise<void>((ok) => server.listen(port, '127.0.0.1', ok));
    },
    close,
  };
}
