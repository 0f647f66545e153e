import { describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/log.ts';
import { errors } from '../../lib/errors.ts';
import { redactUrl, redactUrls } from '../../lib/redact.ts';
import { cpuTimed } from '../support/cpu-time.ts';

// Repository URLs with credentials in them are shown with the credentials masked, everywhere.

describe('redacting repository URLs', () => {
  it.each([
    ['https://alice:s3cret@git.example.com/repo.git', 'https://alice:xxxxx@git.example.com/repo.git'],
    ['http://user:pass@host/path', 'http://user:xxxxx@host/path'],
    ['https://ghp_token@github.com/org/repo', 'https://xxxxx@github.com/org/repo'],
    ['https://a:b:c@host', 'https://a:xxxxx@host'],
    ['https://u:p%40ss@host:8443/x?y=z@w', 'https://u:xxxxx@host:8443/x?y=z@w'],
    ['https://git.example.com/repo.git', 'https://git.example.com/repo.git'],
    ['/var/repos/blue.git', '/var/repos/blue.git'],
    ['file:///var/repos/blue.git', 'file:///var/repos/blue.git'],
    ['git@github.com:org/repo.git', 'git@github.com:org/repo.git'],
  ])('%s → %s', (url, want) => {
    expect(redactUrl(url)).toBe(want);
  });

  it('masks every URL in a message and leaves the rest', () => {
    expect(redactUrls('fetch https://u:p@a/x failed; retrying "http://v:q@b/y" (see https://docs/z) mail a@b')).toBe(
      'fetch https://u:xxxxx@a/x failed; retrying "http://v:xxxxx@b/y" (see https://docs/z) mail a@b',
    );
  });

  it('redacts long text in linear time', () => {
    const text = `${'://'.repeat(100_000)}${'a'.repeat(100_000)}@`;
    expect(cpuTimed(() => redactUrls(text)).ms).toBeLessThan(1000);
  });

  it('keeps credentials out of Status messages and log lines', () => {
    expect(errors.unavailable('git repository unavailable: fetch https://alice:s3cret@host/r.git: 401').message).not.toContain('s3cret');
    expect(errors.invalid('Repository', 'config.porch.kpt.dev', 'r', [{ field: 'spec.git.repo', message: 'Invalid value: "https://alice:s3cret@host"' }]).toStatus().message).not.toContain('s3cret');
    const lines: string[] = [];
    createLogger({ write: (l) => lines.push(l) }).warn('sync failed for https://alice:s3cret@host/r.git', { url: 'https://bob:hunter2@host/r.git' });
    expect(lines.join('\n')).not.toMatch(/s3cret|hunter2/);
    expect(lines.join('\n')).toContain('https://alice:xxxxx@host/r.git');
  });
});
