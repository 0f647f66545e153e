import { describe, expect, it } from 'vitest';
import { parseConfig, UsageError } from '../../gateway/config.ts';

const CWD = '/srv/porch';
const parse = (argv: string[], env: Record<string, string> = {}) => parseConfig(argv, env, CWD);

describe('parseConfig', () => {
  it('defaults to dev mode over HTTPS on 127.0.0.1:7007 with the data directory under the working directory', () => {
    const c = parse([]);
    expect(c).toMatchObject({
      mode: 'dev',
      storeOnly: false,
      tls: true,
      port: 7007,
      host: '127.0.0.1',
      dataDir: '/srv/porch/.porch-ts',
      kubeconfigPath: '/srv/porch/.porch-ts/kubeconfig',
      logLevel: 'info',
      allowAnonymous: true,
      delegatedAuth: false,
      syncIntervalMs: 600_000,
      repositorySyncTimeoutMs: 120_000,
      staleDraftAgeMs: 30 * 24 * 3600_000,
      maxBodyBytes: 8 * 1024 * 1024,
      requestheaderAllowedNames: [],
    });
  });

  it('keeps plain http with --tls=false, --no-tls or PORCH_TLS=false', () => {
    expect(parse(['--tls=false']).tls).toBe(false);
    expect(parse(['--no-tls']).tls).toBe(false);
    expect(parse([], { PORCH_TLS: 'false' }).tls).toBe(false);
    expect(parse(['--tls=true']).tls).toBe(true);
  });

  it('serves the given certificate even when --tls is off', () => {
    const c = parse(['--tls=false', '--tls-cert', 'a.crt', '--tls-key', 'a.key']);
    expect(c).toMatchObject({ tls: true, tlsCert: '/srv/porch/a.crt', tlsKey: '/srv/porch/a.key' });
  });

  it('reads PORCH_* variables, and flags win over them', () => {
    const env = { PORCH_PORT: '9000', PORCH_HOST: '0.0.0.0', PORCH_DATA_DIR: '/data', PORCH_SYNC_INTERVAL: '30s', PORCH_REQUESTHEADER_ALLOWED_NAMES: ' a, b ,' };
    expect(parse([], env)).toMatchObject({ port: 9000, host: '0.0.0.0', dataDir: '/data', kubeconfigPath: '/data/kubeconfig', syncIntervalMs: 30_000, requestheaderAllowedNames: ['a', 'b'] });
    expect(parse(['--port', '0', '--kubeconfig', 'kc'], env)).toMatchObject({ port: 0, kubeconfigPath: '/srv/porch/kc' });
  });

  it('turns anonymous access off once tokens or RBAC are configured, unless asked for', () => {
    expect(parse(['--token-file', 't.csv']).allowAnonymous).toBe(false);
    expect(parse(['--token-file', 't.csv', '--allow-anonymous']).allowAnonymous).toBe(true);
    expect(parse(['--allow-anonymous=false']).allowAnonymous).toBe(false);
  });

  it('delegates authentication in cluster mode, which then needs TLS', () => {
    expect(parse(['--mode', 'cluster', '--tls'])).toMatchObject({ mode: 'cluster', delegatedAuth: true, tls: true });
    expect(parse(['--mode', 'cluster', '--delegated-auth=false'])).toMatchObject({ delegatedAuth: false, tls: false });
    expect(() => parse(['--mode', 'cluster'])).toThrow(/delegated authentication needs --tls/);
  });

  it('takes the function runtimes from --function-config and --function-runner or PORCH_FUNCTION_*', () => {
    expect(parse([])).toMatchObject({ functionConfig: undefined, functionRunner: undefined });
    expect(parse(['--function-config', 'fns.yaml', '--function-runner', 'function-runner.porch-system.svc:9445'])).toMatchObject({
      functionConfig: '/srv/porch/fns.yaml',
      functionRunner: 'function-runner.porch-system.svc:9445',
    });
    const env = { PORCH_FUNCTION_CONFIG: '/etc/porch/fns.yaml', PORCH_FUNCTION_RUNNER: '[::1]:9445' };
    expect(parse([], env)).toMatchObject({ functionConfig: '/etc/porch/fns.yaml', functionRunner: '[::1]:9445' });
    expect(parse(['--function-runner', 'dns:///runner:9445'], env).functionRunner).toBe('dns:///runner:9445');
  });

  it.each([
    [['--mode', 'edge'], /invalid --mode edge/],
    [['--function-runner', 'runner'], /invalid --function-runner runner/],
    [['--function-runner', 'runner:0'], /invalid --function-runner runner:0/],
    [['--function-runner', 'http://runner:9445'], /invalid --function-runner/],
    [['--port', '70000'], /invalid --port 70000/],
    [['--port', 'x'], /invalid --port x/],
    [['--max-body-bytes', '10'], /invalid --max-body-bytes 10/],
    [['--sync-timeout', '0'], /--sync-timeout must be more than 0/],
    [['--sync-interval', 'soon'], /invalid --sync-interval/],
    [['--tls-cert', 'a.crt'], /--tls-cert and --tls-key must be given together/],
    [['--tls=false', '--client-ca', 'ca.pem'], /need --tls/],
    [['--mode', 'cluster', '--store-only', '--tls'], /--store-only is for dev mode/],
    [['--mode', 'cluster', '--tls', '--token-file', 't.csv'], /--token-file and --rbac-file apply when authentication is not delegated/],
    [['--log-level', 'loud'], /invalid --log-level loud/],
    [['--unknown'], /Unknown option '--unknown'/],
    [['positional'], /positional/],
  ])('refuses %j with a usage error', (argv, message) => {
    expect(() => parse(argv)).toThrow(UsageError);
    expect(() => parse(argv)).toThrow(message);
  });
});
