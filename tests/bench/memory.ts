import type { BenchClient } from './http.ts';
import { PORCH, ensureNamespace, registerRepository, revisionCount, startServer } from './server.ts';
import { sleep, waitFor } from './stats.ts';

// Memory case, run as its own process (node --expose-gc) so nothing else the benchmark holds counts:
// RSS and heap after start, then after the repositories are loaded and listed once (JSON and Table,
// so anything built lazily for responses is included) and the process sat idle for a while (the heap
// and malloc arenas grown by the load itself shrink back then), each after full garbage collections.

export interface MemoryInput {
  dataDir: string;
  namespace: string;
  repos: { name: string; bare: string; expected: number }[];
  /** Idle time before the final reading, so V8 and the allocator give back what the load itself used. */
  idleMs: number;
}

export interface MemoryOutput {
  revisions: number;
  rssBefore: number;
  rssAfter: number;
  /** RSS right after loading and listing (before the idle time). */
  rssLoaded: number;
  heapBefore: number;
  heapAfter: number;
  externalBefore: number;
  externalAfter: number;
  jsonBytes: number;
  loadMs: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

async function settle(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 4; i++) {
    gc?.();
    await sleep(50);
  }
  return process.memoryUsage();
}

async function listOnce(client: BenchClient, path: string): Promise<{ revisions: number; jsonBytes: number }> {
  const list = await client.request('GET', path);
  return { revisions: (JSON.parse(list.body.toString('utf8')) as { items: unknown[] }).items.length, jsonBytes: list.body.length };
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2]) as MemoryInput;
  const server = await startServer(input.dataDir);
  const { client, ctx } = server;
  await ensureNamespace(client, input.namespace);
  for (let i = 0; i < 20; i++) await client.request('GET', '/version');
  const before = await settle();
  const t0 = performance.now();
  for (const r of input.repos) await registerRepository(client, input.namespace, r.name, r.bare);
  await waitFor(() => input.repos.every((r) => revisionCount(ctx, input.namespace, r.name) === r.expected), 600_000, 'repositories to load', 20);
  const loadMs = performance.now() - t0;
  const path = `${PORCH}/namespaces/${input.namespace}/packagerevisions`;
  // Only numbers survive these calls, so the response bodies are garbage by the time RSS is read.
  const { revisions, jsonBytes } = await listOnce(client, path);
  await client.request('GET', path, { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
  const loaded = await settle();
  await sleep(input.idleMs);
  const after = await settle();
  const out: MemoryOutput = {
    revisions,
    rssBefore: before.rss,
    rssAfter: after.rss,
    rssLoaded: loaded.rss,
    heapBefore: before.heapUsed,
    heapAfter: after.heapUsed,
    externalBefore: before.external + before.arrayBuffers,
    externalAfter: after.external + after.arrayBuffers,
    jsonBytes,
    loadMs,
  };
  process.stdout.write(`MEMORY_RESULT ${JSON.stringify(out)}\n`);
  await server.stop();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
