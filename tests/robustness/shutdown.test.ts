import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway } from '../../gateway/app.ts';
import { startDevServer, type DevServer } from '../support/dev-server.ts';
import { porchRepo } from '../support/git-fixtures.ts';
import { testContext } from '../support/context.ts';
import { client, PORCH } from './api.ts';

// SIGTERM: the write in progress completes and is kept, open watches get a final event and end,
// the process exits 0; once stopping, new requests and /readyz get 503 while /healthz stays up.

describe('graceful shutdown of the dev server', () => {
  let dir: string;
  let bare: string;
  let server: DevServer;
  const api = client(() => server);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'porch-shutdown-'));
    bare = porchRepo(dir, 'blue', [{ path: 'app', revisions: 1 }]);
    server = await startDevServer({ dataDir: join(dir, 'data'), args: ['--sync-interval', '0'], stopTimeoutMs: 20_000 });
    expect((await api.registerBlue(bare)).status).toBe(201);
    await api.waitServed('blue.app.v1');
    expect((await api.createDraft('app', 'ws1')).status).toBe(201);
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finishes the write in flight, ends watches with a final event, exits 0, and kept the write', async () => {
    // A watch, read as it streams.
    const watch = await fetch(`${server.url}${PORCH}/packagerevisions?watch=true`);
    expect(watch.status).toBe(200);
    const lines: string[] = [];
    const watchDone = (async () => {
      const reader = watch.body!.getReader();
      const dec = new TextDecoder();
      let buf = '';
      for (;;) {
        const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
        if (done) break;
        buf += dec.decode(value, { stream: true });
        const parts = buf.split('\n');
        buf = parts.pop() ?? '';
        lines.push(...parts.filter(Boolean));
      }
    })();

    // A resources update whose body is only half sent when SIGTERM arrives.
    const cur = JSON.parse((await api.req('GET', `${PORCH}/packagerevisionresources/blue.app.ws1`)).text) as { spec: { resources: Record<string, string> } };
    const body = Buffer.from(JSON.stringify({ ...cur, spec: { ...cur.spec, resources: { ...cur.spec.resources, 'late.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: written-during-shutdown\n' } } }));
    const url = new URL(`${server.url}${PORCH}/packagerevisionresources/blue.app.ws1`);
    const reply = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const r = request(url, { method: 'PUT', headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      r.on('error', reject);
      r.write(body.subarray(0, body.length >> 1));
      setTimeout(() => {
        const exited = server.kill('SIGTERM');
        // The rest of the body arrives after the signal; the request must still complete.
        setTimeout(() => r.end(body.subarray(body.length >> 1)), 300);
        void exited.then((info) => exits.push(info));
      }, 300);
    });
    const exits: { code: number | null; signal: NodeJS.Signals | null }[] = [];

    const done = await reply;
    expect(done.status, done.text).toBe(200);
    await watchDone;
    const last = JSON.parse(lines[lines.length - 1]) as { type: string; object: { kind: string; code: number; message: string } };
    expect(last.type).toBe('ERROR');
    expect(last.object).toMatchObject({ kind: 'Status', code: 503 });
    expect(last.object.message).toMatch(/shutting down/);
    const deadline = Date.now() + 60_000;
    while (!exits.length && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 50));
    expect(exits).toEqual([{ code: 0, signal: null }]);

    await server.restart();
    await api.waitServed('blue.app.ws1');
    const after = JSON.parse((await api.req('GET', `${PORCH}/packagerevisionresources/blue.app.ws1`)).text) as { spec: { resources: Record<string, string> } };
    expect(after.spec.resources['late.yaml']).toContain('written-during-shutdown');
  });
});

describe('the gateway once stopping', () => {
  it('answers 503 to new requests and /readyz, and keeps /healthz and /livez up', async () => {
    const t = await testContext();
    try {
      const app = buildGateway(t.ctx, { authenticate: async () => ({ username: 'u', groups: ['system:masters'] }) });
      expect((await app.request('/readyz')).status).toBe(200);
      expect((await app.request('/api/v1/namespaces/default/secrets')).status).toBe(200);
      t.ctx.shutdown.fire();
      const refused = await app.request('/api/v1/namespaces/default/secrets');
      expect(refused.status).toBe(503);
      expect(await refused.json()).toMatchObject({ kind: 'Status', code: 503, reason: 'ServiceUnavailable', message: 'the server is shutting down' });
      expect((await app.request('/readyz')).status).toBe(503);
      expect((await app.request('/healthz')).status).toBe(200);
      expect((await app.request('/livez')).status).toBe(200);
    } finally {
      await t.cleanup();
    }
  });
});
