import { fileURLToPath } from 'node:url';

/** The path of a token file or RBAC policy kept in tests/support/rbac/, to pass to the server as is. */
export function rbacFixture(name: string): string {
  return fileURLToPath(new URL(`./rbac/${name}`, import.meta.url));
}
