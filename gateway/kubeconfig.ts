import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import YAML from 'yaml';
import { writeFileAtomic } from '../lib/store/atomic-file.ts';

/** A kubeconfig pointing kubectl at this server with the given token. */
export async function writeKubeconfig(path: string, server: string, token: string, namespace = 'default'): Promise<void> {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'porch-ts', cluster: { server } }],
    users: [{ name: 'porch-ts-admin', user: { token } }],
    contexts: [{ name: 'porch-ts', context: { cluster: 'porch-ts', user: 'porch-ts-admin', namespace } }],
    'current-context': 'porch-ts',
    preferences: {},
  };
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, YAML.stringify(doc), false);
}
