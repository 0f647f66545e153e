import { expect } from 'vitest';
import approvePackageRevision from '../../handlers/approve-packagerevision.ts';
import listPackageRevisions from '../../handlers/list-packagerevisions.ts';
import updatePackageRevision from '../../handlers/update-packagerevision.ts';
import type { AppContext } from '../../lib/context.ts';
import { jsonRequest } from './context.ts';

interface Revision {
  metadata: { name: string };
  spec: Record<string, unknown>;
}

/** Propose, then approve, a draft through the handlers, as a client does; returns the published revision. */
export async function publishRevision(ctx: AppContext, name: string, namespace = 'default'): Promise<unknown> {
  const ns = `/apis/porch.kpt.dev/v1alpha1/namespaces/${namespace}`;
  const items = ((await (await listPackageRevisions(ctx).request(jsonRequest('GET', `${ns}/packagerevisions`))).json()) as { items: Revision[] }).items;
  const cur = items.find((i) => i.metadata.name === name)!;
  const proposed = await updatePackageRevision(ctx).request(jsonRequest('PUT', `${ns}/packagerevisions/${name}`, { ...cur, spec: { ...cur.spec, lifecycle: 'Proposed' } }));
  expect(proposed.status).toBe(200);
  const p = (await proposed.json()) as Revision;
  const approved = await approvePackageRevision(ctx).request(jsonRequest('PUT', `${ns}/packagerevisions/${name}/approval`, { ...p, spec: { ...p.spec, lifecycle: 'Published' } }));
  expect(approved.status).toBe(200);
  return approved.json();
}
