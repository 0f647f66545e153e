import { describe, expect, it } from 'vitest';
import { parseRbacYaml } from '../../lib/auth/rbac-objects.ts';
import { RbacAuthorizer } from '../../lib/auth/rbac.ts';
import { requireSecretAccess } from '../../lib/auth/requester.ts';
import { insecureCredentialProblem } from '../../lib/engine/credentials.ts';
import { StatusError } from '../../lib/errors.ts';
import { roleBindingYaml } from '../support/rbac-yaml.ts';

// When the server may use a Secret's credentials on a requester's behalf: only if the requester may
// read the Secret, and never in clear over the network.

const RBAC = parseRbacYaml(
  roleBindingYaml({
    role: { kind: 'Role', name: 'secret-reader', namespace: 'team-a', rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['git-creds'] }] },
    binding: { kind: 'RoleBinding', name: 'reader', namespace: 'team-a' },
    user: 'alice',
  }),
);

describe('using a Secret on a requester’s behalf', () => {
  const authorizer = new RbacAuthorizer(RBAC);
  const alice = { username: 'alice', groups: ['system:authenticated'] };
  const bob = { username: 'bob', groups: ['system:authenticated'] };

  it('is allowed to whoever may get that Secret', async () => {
    await expect(requireSecretAccess({ user: alice, authorizer }, 'team-a', 'git-creds')).resolves.toBeUndefined();
  });

  it('is a 403 naming the Secret otherwise (another Secret, another namespace, another user)', async () => {
    for (const [user, ns, name] of [
      [alice, 'team-a', 'other'],
      [alice, 'team-b', 'git-creds'],
      [bob, 'team-a', 'git-creds'],
    ] as const) {
      const err = await requireSecretAccess({ user, authorizer }, ns, name).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StatusError);
      expect((err as StatusError).code).toBe(403);
      expect((err as StatusError).message).toBe(`secrets "${name}" is forbidden: User "${user.username}" cannot get resource "secrets" in API group "" in the namespace "${ns}"`);
    }
  });

  it('without an authorizer (none configured) is allowed', async () => {
    await expect(requireSecretAccess({ user: bob }, 'team-a', 'git-creds')).resolves.toBeUndefined();
  });
});

describe('credentials over plain http', () => {
  it('go to loopback and over https only, unless allowed', () => {
    for (const url of ['https://git.example.com/r.git', 'http://127.0.0.1:8080/r.git', 'http://127.1.2.3/r', 'http://localhost/r', 'http://[::1]:9/r', '/srv/r.git'])
      expect(insecureCredentialProblem(url, false), url).toBeUndefined();
    for (const url of ['http://git.example.com/r.git', 'HTTP://10.0.0.1/r', 'http://127.0.0.1.example.com/r', 'http://[::2]/r'])
      expect(insecureCredentialProblem(url, false), url).toMatch(/not sent over plain http .*--allow-insecure-git-credentials/);
    expect(insecureCredentialProblem('http://git.example.com/r.git', true)).toBeUndefined();
  });
});
