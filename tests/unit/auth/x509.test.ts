import { X509Certificate } from 'node:crypto';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve, type HttpBindings } from '@hono/node-server';
import { Hono } from 'hono';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuthenticatorChain, authRequestFrom } from '../../../lib/auth/chain.ts';
import { RequestHeaderAuthenticator } from '../../../lib/auth/requestheader.ts';
import { createCertificateAuthority, generateServingCertificate, opensslAvailable, type CertificateAuthority, type PemPair } from '../../../lib/auth/tls.ts';
import { ClientCertificateAuthenticator, parsePemBundle, verifyCertificateChain } from '../../../lib/auth/x509.ts';
import { certificateFields, subjectIdentity } from '../../../lib/auth/x509-fields.ts';
import { StatusError } from '../../../lib/errors.ts';

const hasOpenssl = await opensslAvailable();

let clientCa: CertificateAuthority;
let otherCa: CertificateAuthority;
let proxyCa: CertificateAuthority;
let intermediateCa: CertificateAuthority;
let alice: PemPair;
let expired: PemPair;
let forged: PemPair;
let viaIntermediate: PemPair;
let serverOnly: PemPair;
let frontProxy: PemPair;
let strangerProxy: PemPair;

const x509 = (p: PemPair | string) => new X509Certificate(typeof p === 'string' ? p : p.certPem);

beforeAll(async () => {
  if (!hasOpenssl) return;
  [clientCa, otherCa, proxyCa] = await Promise.all([
    createCertificateAuthority({ commonName: 'client-ca' }),
    createCertificateAuthority({ commonName: 'client-ca' }),
    createCertificateAuthority({ commonName: 'front-proxy-ca' }),
  ]);
  intermediateCa = await clientCa.intermediate('client-intermediate');
  [alice, expired, forged, viaIntermediate, serverOnly, frontProxy, strangerProxy] = await Promise.all([
    clientCa.issue({ commonName: 'alice', organizations: ['team-a', 'porch-authors'] }),
    clientCa.issue({ commonName: 'old-alice', expired: true }),
    otherCa.issue({ commonName: 'alice', organizations: ['system:masters'] }),
    intermediateCa.issue({ commonName: 'bob', organizations: ['team-b'] }),
    clientCa.issue({ commonName: 'web', usage: 'server' }),
    proxyCa.issue({ commonName: 'front-proxy-client' }),
    proxyCa.issue({ commonName: 'someone-else' }),
  ]);
});

describe.skipIf(!hasOpenssl)('x509 chain verification', () => {
  it('reads CN and every O from the certificate', () => {
    expect(subjectIdentity(certificateFields(x509(alice)))).toEqual({ commonName: 'alice', organizations: ['team-a', 'porch-authors'] });
  });

  it('accepts a certificate issued by the CA', () => {
    const chain = verifyCertificateChain(x509(alice), { roots: parsePemBundle(clientCa.certPem) });
    expect(chain.map((c) => subjectIdentity(certificateFields(c)).commonName)).toEqual(['alice', 'client-ca']);
  });

  it('refuses one from a different CA with the same name', () => {
    expect(() => verifyCertificateChain(x509(forged), { roots: [x509(clientCa.certPem)] })).toThrow(/signed by unknown authority/);
  });

  it('refuses an expired certificate, and one used before it is valid', () => {
    expect(() => verifyCertificateChain(x509(expired), { roots: [x509(clientCa.certPem)] })).toThrow(/has expired or is not yet valid: current time .* is after/);
    const notYet = new Date(Date.now() - 86_400_000);
    expect(() => verifyCertificateChain(x509(alice), { roots: [x509(clientCa.certPem)], now: notYet })).toThrow(/is before/);
  });

  it('refuses when the CA itself has expired, even if the leaf has not', async () => {
    const outlives = await clientCa.issue({ commonName: 'long-lived', days: 1000 });
    const later = new Date(Date.now() + 400 * 86_400_000);
    expect(() => verifyCertificateChain(x509(outlives), { roots: [x509(clientCa.certPem)], now: later })).toThrow(
      /signed by unknown authority \(possibly because of ".*is after.*candidate authority \\"client-ca\\"/,
    );
  });

  it('builds a chain through an intermediate the client sent', () => {
    const roots = [x509(clientCa.certPem)];
    expect(() => verifyCertificateChain(x509(viaIntermediate), { roots })).toThrow(/unknown authority/);
    const chain = verifyCertificateChain(x509(viaIntermediate), { roots, intermediates: [x509(intermediateCa.certPem)] });
    expect(chain).toHaveLength(3);
  });

  it('a CA bundle may hold several CAs', () => {
    const roots = parsePemBundle(otherCa.certPem + clientCa.certPem);
    expect(roots).toHaveLength(2);
    expect(verifyCertificateChain(x509(alice), { roots })).toHaveLength(2);
  });

  it('refuses a server-only certificate for client authentication', async () => {
    const a = new ClientCertificateAuthenticator([x509(clientCa.certPem)]);
    await expect(a.authenticate({ headers: {}, peerCertificate: x509(serverOnly) })).rejects.toThrow(/incompatible key usage/);
  });
});

describe.skipIf(!hasOpenssl)('client certificate authenticator', () => {
  it('maps CN to the user and O to groups', async () => {
    const a = new ClientCertificateAuthenticator([x509(clientCa.certPem)]);
    const user = await a.authenticate({ headers: {}, peerCertificate: x509(alice) });
    expect(user).toMatchObject({ username: 'alice', groups: ['team-a', 'porch-authors'] });
    expect(user?.extra?.['authentication.kubernetes.io/credential-id']?.[0]).toMatch(/^X509SHA256=[0-9a-f]{64}$/);
  });

  it('has no opinion without a certificate, and refuses a bad one', async () => {
    const a = new ClientCertificateAuthenticator([x509(clientCa.certPem)]);
    expect(await a.authenticate({ headers: {} })).toBeUndefined();
    await expect(a.authenticate({ headers: {}, peerCertificate: x509(forged) })).rejects.toThrow(/verifying certificate SN=\d+, CN="alice" failed: x509: certificate signed by unknown authority/);
    await expect(a.authenticate({ headers: {}, peerCertificate: x509(expired) })).rejects.toThrow(/expired/);
  });
});

describe.skipIf(!hasOpenssl)('request-header (front proxy) authenticator', () => {
  const headers = {
    'x-remote-user': ['alice'],
    'x-remote-group': ['team-a', 'porch-authors'],
    'x-remote-extra-scopes': ['read', 'write'],
    'x-remote-extra-acme.com%2Fproject': ['p1'],
    'x-remote-extra-Mixed': ['m'],
  };
  const authn = () => new RequestHeaderAuthenticator({ clientCA: [x509(proxyCa.certPem)], allowedNames: ['front-proxy-client'] });

  it('ignores the headers entirely on a connection without a client certificate', async () => {
    expect(await authn().authenticate({ headers })).toBeUndefined();
  });

  it('refuses the headers when the certificate is not from the request-header CA', async () => {
    await expect(authn().authenticate({ headers, peerCertificate: x509(alice) })).rejects.toThrow(/unknown authority/);
  });

  it('refuses a proxy certificate whose CN is not allowed', async () => {
    await expect(authn().authenticate({ headers, peerCertificate: x509(strangerProxy) })).rejects.toThrow('x509: subject with cn=someone-else is not in the allowed list');
    const anyName = new RequestHeaderAuthenticator({ clientCA: [x509(proxyCa.certPem)] });
    expect((await anyName.authenticate({ headers, peerCertificate: x509(strangerProxy) }))?.username).toBe('alice');
  });

  it('trusts user, repeated groups and decoded, lower-cased extra keys from the trusted proxy', async () => {
    const user = await authn().authenticate({ headers, peerCertificate: x509(frontProxy) });
    expect(user).toEqual({
      username: 'alice',
      groups: ['team-a', 'porch-authors'],
      extra: { scopes: ['read', 'write'], 'acme.com/project': ['p1'], mixed: ['m'] },
    });
  });

  it('reads fetch Headers, where repeats arrive joined', async () => {
    const h = new Headers();
    h.append('X-Remote-User', 'alice');
    h.append('X-Remote-Group', 'g1');
    h.append('X-Remote-Group', 'g2');
    const user = await authn().authenticate({ headers: h, peerCertificate: x509(frontProxy) });
    expect(user).toEqual({ username: 'alice', groups: ['g1', 'g2'] });
  });

  it('a trusted proxy naming no user leaves the decision to later authenticators', async () => {
    expect(await authn().authenticate({ headers: {}, peerCertificate: x509(frontProxy) })).toBeUndefined();
  });

  it('honours configured header names', async () => {
    const a = new RequestHeaderAuthenticator({
      clientCA: [x509(proxyCa.certPem)],
      usernameHeaders: ['X-Forwarded-User', 'X-Remote-User'],
      groupHeaders: ['X-Forwarded-Groups'],
      uidHeaders: ['X-Remote-Uid'],
      extraHeaderPrefixes: ['X-Forwarded-Extra-'],
    });
    const user = await a.authenticate({
      headers: { 'x-remote-user': 'fallback', 'x-forwarded-groups': ['a'], 'x-remote-uid': 'u-9', 'x-forwarded-extra-k': ['v'], 'x-remote-group': ['ignored'] },
      peerCertificate: x509(frontProxy),
    });
    expect(user).toEqual({ username: 'fallback', uid: 'u-9', groups: ['a'], extra: { k: ['v'] } });
  });

  it('in a chain, a client certificate wins over spoofed headers', async () => {
    const chain = new AuthenticatorChain([authn(), new ClientCertificateAuthenticator([x509(clientCa.certPem)])], { anonymous: true });
    const user = await chain.authenticate({ headers, peerCertificate: x509(alice) });
    expect(user).toMatchObject({ username: 'alice', groups: ['team-a', 'porch-authors', 'system:authenticated'] });
    // Spoofed headers on a plain connection fall through to anonymous.
    expect(await chain.authenticate({ headers })).toEqual({ username: 'system:anonymous', groups: ['system:unauthenticated'] });
    // A certificate nobody trusts is a failed login, not anonymous.
    await expect(chain.authenticate({ headers, peerCertificate: x509(forged) })).rejects.toMatchObject({ code: 401, message: 'Unauthorized' });
  });
});

describe.skipIf(!hasOpenssl)('over a real TLS connection served by @hono/node-server', () => {
  it('authRequestFrom finds the peer certificate on c.env.incoming', async () => {
    const serving = await generateServingCertificate();
    const chain = new AuthenticatorChain(
      [
        new RequestHeaderAuthenticator({ clientCA: [x509(proxyCa.certPem)], allowedNames: ['front-proxy-client'] }),
        new ClientCertificateAuthenticator([x509(clientCa.certPem)]),
      ],
      { anonymous: true },
    );
    const app = new Hono<{ Bindings: HttpBindings }>();
    app.get('/whoami', async (c) => {
      try {
        return c.json(await chain.authenticate(authRequestFrom(c.req.raw, c.env.incoming)));
      } catch (err) {
        return c.json({ error: (err as StatusError).code }, 401);
      }
    });
    const server = serve({
      fetch: app.fetch,
      port: 0,
      hostname: '127.0.0.1',
      createServer: createHttpsServer,
      serverOptions: { cert: serving.certPem, key: serving.keyPem, requestCert: true, rejectUnauthorized: false },
    });
    await new Promise<void>((ok) => server.once('listening', () => ok()));
    const port = (server.address() as AddressInfo).port;
    const get = (client: PemPair | undefined, headers: Record<string, string | string[]> = {}, chainPem = '') =>
      new Promise<{ status: number; body: unknown }>((ok, fail) => {
        const req = httpsRequest(
          { host: 'localhost', port, path: '/whoami', ca: serving.certPem, headers, ...(client ? { cert: client.certPem + chainPem, key: client.keyPem } : {}) },
          (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () => ok({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
          },
        );
        req.on('error', fail);
        req.end();
      });
    try {
      expect(await get(alice, { 'X-Remote-User': 'root' })).toEqual({ status: 200, body: expect.objectContaining({ username: 'alice' }) });
      expect(await get(frontProxy, { 'X-Remote-User': 'carol', 'X-Remote-Group': ['g1', 'g,2'] })).toEqual({
        status: 200,
        body: { username: 'carol', groups: ['g1', 'g,2', 'system:authenticated'] },
      });
      expect(await get(undefined, { 'X-Remote-User': 'root' })).toEqual({ status: 200, body: { username: 'system:anonymous', groups: ['system:unauthenticated'] } });
      expect(await get(forged)).toEqual({ status: 401, body: { error: 401 } });
      // The intermediate travels in the TLS handshake and is picked up from the socket.
      expect(await get(viaIntermediate, {}, intermediateCa.certPem)).toEqual({ status: 200, body: expect.objectContaining({ username: 'bob', groups: ['team-b', 'system:authenticated'] }) });
      expect((await get(viaIntermediate)).status).toBe(401);
    } finally {
      await new Promise((ok) => server.close(ok));
    }
  });
});

describe.skipIf(!hasOpenssl)('certificate generation', () => {
  it('makes a serving certificate for localhost and the loopback addresses', async () => {
    const { certPem, keyPem } = await generateServingCertificate();
    const cert = x509(certPem);
    expect(cert.subjectAltName).toContain('DNS:localhost');
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(keyPem).toMatch(/PRIVATE KEY/);
  });

  it('escapes subject characters openssl would otherwise split on', async () => {
    const odd = await clientCa.issue({ commonName: 'system:serviceaccount:ns/x=y', organizations: ['a+b', 'c/d'] });
    expect(subjectIdentity(certificateFields(x509(odd)))).toEqual({ commonName: 'system:serviceaccount:ns/x=y', organizations: ['a+b', 'c/d'] });
  });
});


describe.skipIf(!hasOpenssl)('constraints a CA sets on the chain beneath it', () => {
  const CA = (more: string) => [`basicConstraints=critical,CA:TRUE${more}`, 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature'];
  const authn = (root: CertificateAuthority) => new ClientCertificateAuthenticator([x509(root.certPem)]);

  it('refuses a leaf below a CA that a pathlen:0 CA signed', async () => {
    const root = await createCertificateAuthority({ commonName: 'pathlen-zero-ca', extensions: CA(',pathlen:0') });
    const rogue = await root.intermediate('rogue-ca');
    const admin = await rogue.issue({ commonName: 'mallory', organizations: ['system:masters'] });
    await expect(authn(root).authenticate({ headers: {}, peerCertificate: x509(admin), intermediates: [x509(rogue.certPem)] })).rejects.toThrow(
      /too many intermediates for path length constraint of "pathlen-zero-ca" \(pathlen:0\)/,
    );
    // Its own leaves, and a chain within a larger pathlen, are fine.
    const direct = await root.issue({ commonName: 'alice' });
    expect(await authn(root).authenticate({ headers: {}, peerCertificate: x509(direct) })).toMatchObject({ username: 'alice' });
    const roomy = await createCertificateAuthority({ commonName: 'pathlen-one-ca', extensions: CA(',pathlen:1') });
    const mid = await roomy.intermediate('mid-ca', CA(',pathlen:0'));
    const bob = await mid.issue({ commonName: 'bob' });
    expect(await authn(roomy).authenticate({ headers: {}, peerCertificate: x509(bob), intermediates: [x509(mid.certPem)] })).toMatchObject({ username: 'bob' });
  });

  it('refuses a leaf whose names are outside a CA’s name constraints', async () => {
    const root = await createCertificateAuthority({ commonName: 'constrained-ca', extensions: [...CA(''), 'nameConstraints=critical,permitted;DNS:.team-a.example'] });
    const inside = await root.issue({ commonName: 'svc', hosts: ['api.team-a.example'] });
    expect(await authn(root).authenticate({ headers: {}, peerCertificate: x509(inside) })).toMatchObject({ username: 'svc' });
    const outside = await root.issue({ commonName: 'svc', hosts: ['api.team-b.example'] });
    await expect(authn(root).authenticate({ headers: {}, peerCertificate: x509(outside) })).rejects.toThrow(/verifying certificate .* failed: x509: .*name constraint/i);
    // Through an intermediate, the constraint still holds.
    const mid = await root.intermediate('mid-ca');
    const viaMid = await mid.issue({ commonName: 'svc', hosts: ['evil.example'] });
    await expect(authn(root).authenticate({ headers: {}, peerCertificate: x509(viaMid), intermediates: [x509(mid.certPem)] })).rejects.toThrow(/name constraint/i);
  });
});
