import http from 'node:http';

// A small HTTP/1.1 client on node:http with keep-alive, so client-side overhead stays low and the
// timings are dominated by the server.

export interface HttpResult {
  status: number;
  body: Buffer;
  headers: http.IncomingHttpHeaders;
}

class StaleSocketError extends Error {
  constructor(cause: Error) {
    super(cause.message, { cause });
  }
}

export class BenchClient {
  readonly agent: http.Agent;

  constructor(
    readonly baseUrl: string,
    maxSockets = 16,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  async request(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string> } = {}): Promise<HttpResult> {
    try {
      return await this.send(method, path, opts);
    } catch (err) {
      // A kept-alive socket the server closed while this process was busy is only found dead on reuse
      // (node's documented race): the request never reached the server, so it is sent once more.
      if (!(err instanceof StaleSocketError)) throw err;
      return this.send(method, path, opts);
    }
  }

  private send(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string> }): Promise<HttpResult> {
    const url = new URL(path, this.baseUrl);
    const payload = opts.body === undefined ? undefined : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    if (payload) {
      headers['content-type'] ??= 'application/json';
      headers['content-length'] = String(payload.length);
    }
    return new Promise((resolve, reject) => {
      const req = http.request(url, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
        res.on('error', reject);
      });
      req.on('error', (err: NodeJS.ErrnoException) => reject(req.reusedSocket && err.code === 'ECONNRESET' ? new StaleSocketError(err) : err));
      req.end(payload);
    });
  }

  async json<T = unknown>(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string>; expect?: number[] } = {}): Promise<T> {
    const r = await this.request(method, path, opts);
    const ok = opts.expect ?? [200, 201];
    if (!ok.includes(r.status)) throw new Error(`${method} ${path}: HTTP ${r.status}: ${r.body.toString('utf8').slice(0, 500)}`);
    return JSON.parse(r.body.toString('utf8')) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}
