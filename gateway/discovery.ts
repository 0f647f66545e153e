import { Hono } from 'hono';
import { apiVersionOf, RESOURCES, type ResourceDescriptor } from '../lib/api/resources.ts';
import { errors } from '../lib/errors.ts';
import { jsonResponse, statusResponse } from '../handlers/http/respond.ts';

// Discovery in both forms kubectl understands: the aggregated APIGroupDiscoveryList (asked for first)
// and the legacy APIVersions / APIGroupList / APIResourceList documents.

const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
const AGGREGATED_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

function wantsAggregated(accept: string | undefined): string | undefined {
  if (!accept) return undefined;
  for (const part of accept.split(',')) {
    const p = part.replace(/\s/g, '');
    if (p.includes('as=APIGroupDiscoveryList') && p.includes('g=apidiscovery.k8s.io')) {
      if (p.includes('v=v2beta1')) return AGGREGATED_V2BETA1;
      if (p.includes('v=v2')) return AGGREGATED_V2;
    }
  }
  return undefined;
}

function aggregatedResource(r: ResourceDescriptor) {
  return {
    resource: r.plural,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: r.verbs,
    ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
    ...(r.categories.length ? { categories: r.categories } : {}),
    ...(r.subresources.length
      ? {
          subresources: r.subresources.map((s) => ({
            subresource: s.name,
            responseKind: { group: r.group, version: r.version, kind: r.kind },
            verbs: s.verbs,
          })),
        }
      : {}),
  };
}

/** The group-versions of the served resources, in order of first appearance. */
function groupVersionsOf(served: ResourceDescriptor[]): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of served) seen.set(`${r.group}/${r.version}`, { group: r.group, version: r.version });
  return [...seen.values()];
}

function aggregatedList(served: ResourceDescriptor[], core: boolean, contentType: string): Response {
  const groups = new Map<string, { version: string; resources: ReturnType<typeof aggregatedResource>[] }[]>();
  for (const { group, version } of groupVersionsOf(served)) {
    if ((group === '') !== core) continue;
    const resources = served.filter((r) => r.group === group && r.version === version).map(aggregatedResource);
    const list = groups.get(group) ?? [];
    list.push({ version, resources });
    groups.set(group, list);
  }
  const items = [...groups.entries()].map(([name, versions]) => ({
    metadata: { name, creationTimestamp: null },
    versions: versions.map((v) => ({ version: v.version, resources: v.resources, freshness: 'Current' })),
  }));
  return jsonResponse({ kind: 'APIGroupDiscoveryList', apiVersion: contentType.includes('v2beta1') ? 'apidiscovery.k8s.io/v2beta1' : 'apidiscovery.k8s.io/v2', metadata: {}, items }, 200, contentType);
}

function apiGroup(served: ResourceDescriptor[], group: string) {
  const versions = groupVersionsOf(served)
    .filter((gv) => gv.group === group)
    .map((gv) => ({ groupVersion: `${gv.group}/${gv.version}`, version: gv.version }));
  return { name: group, versions, preferredVersion: versions[0] };
}

function resourceList(served: ResourceDescriptor[], group: string, version: string) {
  const resources: Record<string, unknown>[] = [];
  for (const r of served.filter((x) => x.group === group && x.version === version)) {
    resources.push({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
      ...(r.categories.length ? { categories: r.categories } : {}),
    });
    for (const s of r.subresources)
      resources.push({ name: `${r.plural}/${s.name}`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: s.verbs });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources };
}

/** Discovery of the resources this process serves (all of them in dev mode). */
export function discoveryRoutes(served: ResourceDescriptor[] = RESOURCES): Hono {
  const app = new Hono();
  const gvs = groupVersionsOf(served);
  const hasCore = gvs.some((gv) => gv.group === '');
  app.get('/api', (c) => {
    const agg = wantsAggregated(c.req.header('accept'));
    if (agg) return aggregatedList(served, true, agg);
    const host = c.req.header('host') ?? '127.0.0.1';
    return jsonResponse({ kind: 'APIVersions', versions: hasCore ? ['v1'] : [], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: host }] });
  });
  app.get('/apis', (c) => {
    const agg = wantsAggregated(c.req.header('accept'));
    if (agg) return aggregatedList(served, false, agg);
    const groups = [...new Set(gvs.map((gv) => gv.group).filter((g) => g))].map((g) => apiGroup(served, g));
    return jsonResponse({ kind: 'APIGroupList', apiVersion: 'v1', groups });
  });
  app.get('/api/v1', () =>
    hasCore ? jsonResponse(resourceList(served, '', 'v1')) : statusResponse(errors.notFound({ group: '', resource: 'groupversions' }, 'v1')),
  );
  app.get('/apis/:group', (c) => {
    const group = c.req.param('group');
    if (!gvs.some((gv) => gv.group === group)) return statusResponse(errors.notFound({ group: '', resource: 'apigroups' }, group));
    return jsonResponse({ kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(served, group) });
  });
  app.get('/apis/:group/:version', (c) => {
    const { group, version } = c.req.param();
    if (!gvs.some((gv) => gv.group === group && gv.version === version))
      return statusResponse(errors.notFound({ group: '', resource: 'groupversions' }, `${group}/${version}`));
    return jsonResponse(resourceList(served, group, version));
  });
  return app;
}
