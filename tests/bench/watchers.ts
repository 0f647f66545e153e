import http from 'node:http';

// Many chunked-HTTP watch connections, each recording when its k-th event line arrived.

export class WatcherPool {
  private readonly agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  private readonly requests: http.ClientRequest[] = [];
  /** Per watcher: arrival time (performance.now()) of its k-th line, index k-1. */
  readonly arrivals: number[][] = [];
  readonly lineCounts: number[] = [];
  errors = 0;

  /**
   * Open `n` watches of `url`, `batch` at a time; after each batch waits until `ready(opened)` holds
   * (the server counts its subscribers: response headers may only come with the first event).
   */
  async open(url: string, n: number, ready: (opened: number) => boolean, batch = 100): Promise<void> {
    for (let start = 0; start < n; start += batch) {
      const end = Math.min(n, start + batch);
      for (let i = start; i < end; i++) this.openOne(url, i);
      const deadline = performance.now() + 30_000;
      while (!ready(end)) {
        if (this.errors) throw new Error(`${this.errors} watch connections failed`);
        if (performance.now() > deadline) throw new Error(`watchers not subscribed after 30 s (${end} opened)`);
        await new Promise((r) => setTimeout(r, 2));
      }
    }
  }

  private openOne(url: string, i: number): void {
    this.arrivals[i] = [];
    this.lineCounts[i] = 0;
    const req = http.get(url, { agent: this.agent, headers: { accept: 'application/json' } }, (res) => {
      if (res.statusCode !== 200) {
        this.errors++;
        res.resume();
        return;
      }
      res.on('data', (chunk: Buffer) => {
        const now = performance.now();
        let idx = chunk.indexOf(10);
        while (idx >= 0) {
          this.lineCounts[i]++;
          this.arrivals[i].push(now);
          idx = chunk.indexOf(10, idx + 1);
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', () => {
      this.errors++;
    });
    this.requests.push(req);
  }

  /** Every watcher has at least `k` lines. */
  allHave(k: number): boolean {
    for (const c of this.lineCounts) if (c < k) return false;
    return true;
  }

  /** Latency of every watcher's k-th line relative to `t0`. */
  latencies(k: number, t0: number): number[] {
    return this.arrivals.map((a) => a[k - 1] - t0);
  }

  close(): void {
    for (const r of this.requests) r.destroy();
    this.agent.destroy();
  }
}
