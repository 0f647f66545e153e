import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { errMessage } from '../errors.ts';

// Certificates are made with the openssl command line tool: Node's crypto can verify certificates but
// cannot issue them, and the only alternative would be a new dependency.

const run = promisify(execFile);

export interface PemPair {
  certPem: string;
  keyPem: string;
}

export class OpensslMissingError extends Error {}

let available: Promise<boolean> | undefined;

export function opensslAvailable(): Promise<boolean> {
  available ??= run('openssl', ['version']).then(
    () => true,
    () => false,
  );
  return available;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  if (!(await opensslAvailable())) throw new OpensslMissingError('the openssl command is needed to generate certificates and was not found on PATH');
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || errMessage(err)}`);
  }
}

async function inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'porch-ts-tls-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `/CN=x/O=a/O=b` with the characters openssl's -subj parser treats specially escaped. */
function subjectArg(commonName: string, organizations: string[] = []): string {
  const esc = (s: string) => s.replace(/[\\/+=]/g, (c) => `\\${c}`);
  return [...organizations.map((o) => `/O=${esc(o)}`), `/CN=${esc(commonName)}`].join('');
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function serial(): string {
  // Positive, and random so two certificates from one CA never share a serial.
  return `0x${(randomBytes(16)[0] & 0x7f).toString(16).padStart(2, '0')}${randomBytes(15).toString('hex')}`;
}

export interface ServingCertOptions {
  /** DNS names and IP addresses the certificate is valid for. */
  hosts?: string[];
  days?: number;
}

/** A self-signed serving certificate for a development server, by default for localhost and the loopback addresses. */
export async function generateServingCertificate(opts: ServingCertOptions = {}): Promise<PemPair> {
  const hosts = opts.hosts ?? ['localhost', '127.0.0.1', '::1'];
  const san = hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  return inTempDir(async (dir) => {
    await openssl(
      [
        'req', '-x509', ...EC_KEY, '-keyout', 'key.pem', '-out', 'cert.pem',
        '-days', String(opts.days ?? 365), '-subj', subjectArg(hosts[0] ?? 'localhost'), '-set_serial', serial(),
        '-addext', `subjectAltName=${san}`,
        '-addext', 'keyUsage=critical,digitalSignature',
        '-addext', 'extendedKeyUsage=serverAuth',
        '-addext', 'basicConstraints=critical,CA:FALSE',
      ],
      dir,
    );
    return { certPem: await readFile(join(dir, 'cert.pem'), 'utf8'), keyPem: await readFile(join(dir, 'key.pem'), 'utf8') };
  });
}

export interface IssueOptions {
  commonName: string;
  organizations?: string[];
  days?: number;
  /** Already past its notAfter date when issued, for testing rejection of expired certificates. */
  expired?: boolean;
  /** Defaults to client authentication. */
  usage?: 'client' | 'server';
  /** DNS names / IPs, for server certificates. */
  hosts?: string[];
}

export interface CertificateAuthority extends PemPair {
  issue(opts: IssueOptions): Promise<PemPair>;
  /** A CA signed by this one, for chains with an intermediate; `extensions` replace the CA defaults. */
  intermediate(commonName: string, extensions?: string[]): Promise<CertificateAuthority>;
}

const CA_EXTENSIONS = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature'];

/** A throwaway CA (for tests and local setups) that issues client certificates with CN = user and O = groups. */
export async function createCertificateAuthority(opts: { commonName?: string; days?: number; extensions?: string[] } = {}): Promise<CertificateAuthority> {
  const ca = await inTempDir(async (dir) => {
    await openssl(
      [
        'req', '-x509', ...EC_KEY, '-keyout', 'ca.key', '-out', 'ca.pem',
        '-days', String(opts.days ?? 365), '-subj', subjectArg(opts.commonName ?? 'porch-ts-test-ca'), '-set_serial', serial(),
        ...(opts.extensions ?? CA_EXTENSIONS).flatMap((e) => ['-addext', e]),
      ],
      dir,
    );
    return { certPem: await readFile(join(dir, 'ca.pem'), 'utf8'), keyPem: await readFile(join(dir, 'ca.key'), 'utf8') };
  });
  return authority(ca);
}

function authority(ca: PemPair): CertificateAuthority {
  const sign = (subject: string, ext: string[], days: string): Promise<PemPair> =>
    inTempDir(async (dir) => {
      await writeFile(join(dir, 'ca.pem'), ca.certPem);
      await writeFile(join(dir, 'ca.key'), ca.keyPem, { mode: 0o600 });
      await writeFile(join(dir, 'ext.cnf'), ext.join('\n') + '\n');
      await openssl(['req', '-new', ...EC_KEY, '-keyout', 'key.pem', '-out', 'req.csr', '-subj', subject], dir);
      await openssl(
        ['x509', '-req', '-in', 'req.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', serial(), '-days', days, '-extfile', 'ext.cnf', '-out', 'cert.pem'],
        dir,
      );
      return { certPem: await readFile(join(dir, 'cert.pem'), 'utf8'), keyPem: await readFile(join(dir, 'key.pem'), 'utf8') };
    });

  return {
    ...ca,
    issue(o) {
      const ext = [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        `extendedKeyUsage=${o.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
      ];
      if (o.hosts?.length) ext.push(`subjectAltName=${o.hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',')}`);
      // openssl 3.0 cannot backdate notBefore; a negative -days puts notAfter in the past, which is
      // exactly the expired case a verifier must refuse.
      return sign(subjectArg(o.commonName, o.organizations), ext, o.expired ? '-1' : String(o.days ?? 30));
    },
    async intermediate(commonName, extensions = CA_EXTENSIONS) {
      return authority(await sign(subjectArg(commonName), extensions, '30'));
    },
  };
}
