import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../support/dev-server.ts';
import { client, CONFIG } from './api.ts';

// A Repository whose URL carries credentials: they appear in no status condition, Status error or
// log line, however the repository fails.

describe('credentials in a repository URL', () => {
  let server: DevServer;
  beforeAll(async () => {
    server = await startDevServer({ args: ['--sync-interval', '0'] });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('are masked in the Repository status and in the logs', async () => {
    const api = client(() => server);
    const created = await api.registerBlue('http://alice:s3cret-pw@127.0.0.1:1/nothing.git');
    expect(created.status, created.text).toBe(201);
    let status = '';
    for (let i = 0; i < 200 && !status.includes('"Ready"'); i++) {
      const r = await api.req('GET', `${CONFIG}/repositories/blue`);
      status = JSON.stringify((JSON.parse(r.text) as { status?: unknown }).status ?? '');
      if (!status.includes('"False"') || status.includes('Reconciling')) status = '';
      await new Promise((ok) => setTimeout(ok, 50));
    }
    expect(status).toContain('127.0.0.1:1');
    expect(status).not.toContain('s3cret-pw');
    const draft = await api.createDraft('app', 'ws1');
    expect(draft.text).not.toContain('s3cret-pw');
    const { stdout, stderr } = server.output();
    expect(`${stdout}\n${stderr}`).not.toContain('s3cret-pw');
  });
});
