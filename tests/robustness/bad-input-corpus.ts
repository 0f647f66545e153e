// The malformed-request corpus: every resource × verb the API serves, crossed with the ways a body,
// a name, a selector, a patch or a query can be wrong. Each case names the status it must get and a
// word the Status message must contain, so an answer that is 4xx for the wrong reason still fails.

export interface BadRequest {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  contentType?: string;
  body?: string | Buffer;
  status: number;
  /** A fragment the Status message must contain (case-insensitive). */
  mention: string;
}

const PORCH = '/apis/porch.kpt.dev/v1alpha1/namespaces/default';
const CONFIG = '/apis/config.porch.kpt.dev/v1alpha1/namespaces/default';
const CORE = '/api/v1/namespaces/default';
// `k8s\0` + runtime.Unknown{typeMeta: {apiVersion: v1, kind: Pod}}, hand-encoded.
const PROTOBUF_POD = Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x09, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x03, 0x50, 0x6f, 0x64]);

interface Target {
  resource: string;
  collection: string;
  /** An existing object of the resource (for PUT/PATCH/DELETE). */
  existing: string;
  apiVersion: string;
  kind: string;
  /** A valid object for create (or, for PUT, the existing one), to be broken one way at a time. */
  valid: (name: string, verb: 'POST' | 'PUT') => Record<string, unknown>;
  creatable: boolean;
}

/** A creatable resource whose valid object is its kind, a name in default, and `rest` (the same for POST and PUT). */
function plain(base: string, apiVersion: string, resource: string, kind: string, existing: string, rest: Record<string, unknown>): Target {
  return {
    resource,
    collection: `${base}/${resource}`,
    existing,
    apiVersion,
    kind,
    valid: (name) => ({ apiVersion, kind, metadata: { name, namespace: 'default' }, ...rest }),
    creatable: true,
  };
}

export function corpus(draft: string, published: string, repoUrl: string): BadRequest[] {
  const targets: Target[] = [
    {
      resource: 'packagerevisions',
      collection: `${PORCH}/packagerevisions`,
      existing: draft,
      apiVersion: 'porch.kpt.dev/v1alpha1',
      kind: 'PackageRevision',
      valid: (_name, verb) => ({
        apiVersion: 'porch.kpt.dev/v1alpha1',
        kind: 'PackageRevision',
        metadata: { namespace: 'default' },
        spec: verb === 'POST' ? { repository: 'blue', packageName: 'newpkg', workspaceName: 'ws9' } : { repository: 'blue', packageName: 'app', workspaceName: 'ws1' },
      }),
      creatable: true,
    },
    {
      resource: 'packagerevisionresources',
      collection: `${PORCH}/packagerevisionresources`,
      existing: draft,
      apiVersion: 'porch.kpt.dev/v1alpha1',
      kind: 'PackageRevisionResources',
      valid: () => ({
        apiVersion: 'porch.kpt.dev/v1alpha1',
        kind: 'PackageRevisionResources',
        metadata: { name: draft, namespace: 'default' },
        spec: { resources: { Kptfile: 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: app\n' } },
      }),
      creatable: false,
    },
    plain(CONFIG, 'config.porch.kpt.dev/v1alpha1', 'repositories', 'Repository', 'blue', { spec: { type: 'git', git: { repo: repoUrl, branch: 'main' } } }),
    plain(CONFIG, 'config.porch.kpt.dev/v1alpha1', 'packagevariants', 'PackageVariant', 'pv1', { spec: {} }),
    plain(CONFIG, 'config.porch.kpt.dev/v1alpha1', 'packagevariantsets', 'PackageVariantSet', 'pvs1', { spec: {} }),
    plain(CONFIG, 'config.porch.kpt.dev/v1alpha1', 'packagerevs', 'PackageRev', 'pr1', {}),
    plain(CORE, 'v1', 'secrets', 'Secret', 'creds', { stringData: { a: 'b' } }),
  ];

  const out: BadRequest[] = [];
  const json = (v: unknown) => JSON.stringify(v);
  for (const t of targets) {
    const one = `${t.collection}/${t.existing}`;
    // What each write verb gets: create on the collection, replace on the object.
    const writes: { verb: 'POST' | 'PUT'; path: string; name: string }[] = [];
    if (t.creatable) writes.push({ verb: 'POST', path: t.collection, name: 'fresh-one' });
    writes.push({ verb: 'PUT', path: one, name: t.existing });
    for (const w of writes) {
      const base = t.valid(w.name, w.verb);
      const meta = base.metadata as Record<string, unknown>;
      const tag = `${t.resource} ${w.verb}`;
      const add = (name: string, body: string | Buffer, status: number, mention: string, contentType = 'application/json') =>
        out.push({ name: `${tag}: ${name}`, method: w.verb, path: w.path, contentType, body, status, mention });
      add('invalid JSON', '{"apiVersion": ', 400, 'JSON');
      add('truncated JSON object', json(base).slice(0, -3), 400, 'JSON');
      add('invalid YAML', 'apiVersion: v1\nkind: [unclosed\n', 400, 'YAML', 'application/yaml');
      add('two YAML documents', 'a: 1\n---\nb: 2\n', 400, 'one YAML document', 'application/yaml');
      add('empty body', '', 400, 'empty');
      add('JSON array', '[]', 400, 'object');
      add('JSON string', '"x"', 400, 'object');
      add('JSON null', 'null', 400, 'object');
      add('wrong apiVersion', json({ ...base, apiVersion: 'example.com/v9' }), 400, 'API version');
      add('wrong kind', json({ ...base, kind: 'Pod' }), 400, 'kind');
      add('metadata is a number', json({ ...base, metadata: 5 }), 400, 'metadata');
      add('metadata is a list', json({ ...base, metadata: [] }), 400, 'metadata');
      add('labels with a number value', json({ ...base, metadata: { ...meta, labels: { a: 1 } } }), 422, 'labels');
      add('label key not a qualified name', json({ ...base, metadata: { ...meta, labels: { 'bad key!': 'x' } } }), 422, 'labels');
      add('annotations as a list', json({ ...base, metadata: { ...meta, annotations: ['x'] } }), 422, 'annotations');
      // Protobuf is decoded for the built-in kinds only: a broken envelope is 400, a kind not taken so 415.
      add('truncated protobuf body', Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a]), 400, 'protobuf', 'application/vnd.kubernetes.protobuf');
      add('protobuf body of a kind not accepted so', PROTOBUF_POD, 415, 'protobuf', 'application/vnd.kubernetes.protobuf');
      add('text/plain body', json(base), 415, 'text/plain', 'text/plain');
      add('oversized body', Buffer.alloc(9 * 1024 * 1024, 0x20), 413, 'too large');
      add('JSON nested 2,000 deep', `${json(base).slice(0, -1)},"deep":${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}}`, 400, 'nested');
      add('YAML nested 2,000 deep', `${json(base).slice(0, -1)},"deep":${'['.repeat(2000)}${']'.repeat(2000)}}`, 400, 'nested', 'application/yaml');
      add('YAML nested 300 deep', `${json(base).slice(0, -1)},"deep":${'['.repeat(300)}${']'.repeat(300)}}`, 400, 'nested', 'application/yaml');
      if (t.resource === 'secrets') {
        add('data value that is not base64', json({ ...base, data: { a: 'not base64!' } }), 422, 'data');
        add('data as a list', json({ ...base, data: ['x'] }), 422, 'data');
      }
      if (t.resource !== 'packagerevisionresources' && t.resource !== 'packagerevisions') {
        if (t.resource !== 'secrets') add('spec is a string', json({ ...base, spec: 'nope' }), 422, 'spec');
        if (w.verb === 'POST') {
          add('name with uppercase', json({ ...base, metadata: { ...meta, name: 'Not-A-Label' } }), 422, 'metadata.name');
          add('name with a slash', json({ ...base, metadata: { ...meta, name: 'a/b' } }), 422, 'metadata.name');
          add('name of 300 characters', json({ ...base, metadata: { ...meta, name: 'a'.repeat(300) } }), 422, 'metadata.name');
          add('no name', json({ ...base, metadata: { namespace: 'default' } }), 422, 'name');
        }
      }
      if (w.verb === 'PUT') add('name differs from the URL', json({ ...base, metadata: { ...meta, name: 'someone-else' } }), 400, 'name');
    }

    // PATCH: bad documents and wrong types.
    const patch = (name: string, body: string, contentType: string, status: number, mention: string) =>
      out.push({ name: `${t.resource} PATCH: ${name}`, method: 'PATCH', path: one, contentType, body, status, mention });
    patch('invalid JSON merge patch', '{"metadata":', 'application/merge-patch+json', 400, 'JSON');
    patch('JSON patch that is not a list', '{"op":"add"}', 'application/json-patch+json', 400, 'patch');
    patch('JSON patch with an unknown op', json([{ op: 'frobnicate', path: '/metadata/labels', value: {} }]), 'application/json-patch+json', 400, 'op');
    patch('JSON patch adding below a missing parent', json([{ op: 'add', path: '/nope/deeper/x', value: 1 }]), 'application/json-patch+json', 422, 'could not be applied');
    patch('JSON patch removing a missing path', json([{ op: 'remove', path: '/spec/does/not/exist' }]), 'application/json-patch+json', 422, 'path');
    patch('JSON patch test that fails', json([{ op: 'test', path: '/metadata/name', value: 'other' }]), 'application/json-patch+json', 422, 'test');
    patch('JSON patch without a path', json([{ op: 'add', value: 1 }]), 'application/json-patch+json', 400, 'path');
    patch('patch as application/json', json({ metadata: { labels: { a: 'b' } } }), 'application/json', 415, 'application/json');
    patch('server-side apply', 'metadata: {}\n', 'application/apply-patch+yaml', 415, 'server-side apply');
    patch('merge patch making metadata a string', json({ metadata: 'x' }), 'application/merge-patch+json', 400, 'metadata');
    patch('merge patch adding a bad label', json({ metadata: { labels: { 'no spaces allowed': 'x' } } }), 'application/merge-patch+json', 422, 'metadata.labels');
    patch('merge patch changing the name', json({ metadata: { name: 'renamed' } }), 'application/merge-patch+json', 400, 'name');
    patch('merge patch nested 2,000 deep', `{"metadata":{"labels":${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}}}`, 'application/merge-patch+json', 400, 'nested');
    patch('merge patch with a stale resourceVersion', json({ metadata: { resourceVersion: '1' } }), 'application/merge-patch+json', 409, 'modified');

    // Selectors and query parameters on the list.
    const get = (name: string, query: string, status: number, mention: string) =>
      out.push({ name: `${t.resource} GET: ${name}`, method: 'GET', path: `${t.collection}?${query}`, status, mention });
    get('label selector with an open set', `labelSelector=${encodeURIComponent('a in (b')}`, 400, 'unable to parse');
    get('label selector with a bad operator', `labelSelector=${encodeURIComponent('a=>b')}`, 400, 'unable to parse');
    get('label selector with a bad key', `labelSelector=${encodeURIComponent('-bad-=x')}`, 400, 'unable to parse');
    get('field selector on an unknown field', `fieldSelector=${encodeURIComponent('spec.nothing=x')}`, 400, 'field');
    get('field selector with no operator', `fieldSelector=${encodeURIComponent('metadata.name')}`, 400, 'selector');
    get('watch=maybe', 'watch=maybe', 400, 'watch');
    get('timeoutSeconds=x', 'watch=true&timeoutSeconds=x', 400, 'timeoutSeconds');
    get('negative timeoutSeconds', 'watch=true&timeoutSeconds=-5', 400, 'timeoutSeconds');
    get('watch from resourceVersion=abc', 'watch=true&resourceVersion=abc', 400, 'resourceVersion');
    get('negative limit', 'limit=-1', 400, 'limit');
    get('allowWatchBookmarks=perhaps', 'watch=true&allowWatchBookmarks=perhaps', 400, 'allowWatchBookmarks');
    get('limit that is not a number', 'limit=ten', 400, 'limit');
    // Reads and deletes of things that are not there, or cannot be named.
    out.push({ name: `${t.resource} GET: unknown object`, method: 'GET', path: `${t.collection}/not-there`, status: 404, mention: 'not found' });
    out.push({ name: `${t.resource} GET: unknown subresource`, method: 'GET', path: `${one}/bogus`, status: 404, mention: 'could not find' });
    out.push({ name: `${t.resource} GET: name with an encoded slash`, method: 'GET', path: `${t.collection}/a%2Fb`, status: 404, mention: 'not found' });
    if (t.resource === 'packagerevisionresources') {
      // Their lifetime is their package revision's: no DELETE of their own, as in Porch.
      out.push({ name: `${t.resource} DELETE: not a verb of theirs`, method: 'DELETE', path: one, status: 405, mention: 'DELETE is not supported on resources of kind "packagerevisionresources' });
      continue;
    }
    out.push({ name: `${t.resource} DELETE: unknown object`, method: 'DELETE', path: `${t.collection}/not-there`, status: 404, mention: 'not found' });
    out.push({
      name: `${t.resource} DELETE: stale precondition`,
      method: 'DELETE',
      path: one,
      contentType: 'application/json',
      body: json({ apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { resourceVersion: '1' } }),
      status: 409,
      mention: 'precondition',
    });
    out.push({ name: `${t.resource} DELETE: options that are not JSON`, method: 'DELETE', path: one, contentType: 'application/json', body: '{oops', status: 400, mention: 'JSON' });
  }

  // Package revision specifics: lifecycles, tasks, names, the approval subresource.
  const pr = (name: string, method: BadRequest['method'], path: string, body: unknown, status: number, mention: string, contentType = 'application/json') =>
    out.push({ name: `packagerevisions: ${name}`, method, path, contentType, body: JSON.stringify(body), status, mention });
  const prBase = { apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevision', metadata: { namespace: 'default' } };
  const spec = { repository: 'blue', packageName: 'newpkg', workspaceName: 'ws9' };
  pr('create without repository', 'POST', `${PORCH}/packagerevisions`, { ...prBase, spec: { packageName: 'x', workspaceName: 'w' } }, 422, 'spec.repository');
  pr('create in an unknown repository', 'POST', `${PORCH}/packagerevisions`, { ...prBase, spec: { ...spec, repository: 'nope' } }, 422, 'repository');
  pr('create without packageName', 'POST', `${PORCH}/packagerevisions`, { ...prBase, spec: { repository: 'blue', workspaceName: 'w' } }, 422, 'spec.packageName');
  pr('create without workspaceName', 'POST', `${PORCH}/packagerevisions`, { ...prBase, spec: { repository: 'blue', packageName: 'x' } }, 422, 'spec.workspaceName');
  pr('create as Published', 'POST', `${PORCH}/packagerevisions`, { ...prBase, spec: { ...spec, lifecycle: 'Published' } }, 422, 'lifecycle');
  pr('create with an unknown lifecycle', 'POST', `${PORCH}/packagerevisions`, { ...prBase, spec: { ...spec, lifecycle: 'Bogus' } }, 422, 'lifecycle');
  pr('create with a revision', 'POST', `${PORCH}/packagerevisions`, { ...prBase, spec: { ...spec, revision: 3 } }, 422, 'revision');
  pr('create with a workspace that is not a label', 'POST', `${PORCH}/packagerevisions`, { ...prBase, spec: { ...spec, workspaceName: 'Bad_WS' } }, 422, 'workspaceName');
  pr('create with a package path escaping', 'POST', `${PORCH}/packagerevisions`, { ...prBase, spec: { ...spec, packageName: '../etc' } }, 422, 'packageName');
  pr('create with an absolute package path', 'POST', `${PORCH}/packagerevisions`, { ...prBase, spec: { ...spec, packageName: '/abs/pkg' } }, 422, 'packageName');
  pr('create with two tasks', 'POST', `${PORCH}/packagerevisions`, { ...prBase, spec: { ...spec, tasks: [{ type: 'init' }, { type: 'init' }] } }, 422, 'tasks');
  pr('create with an unknown task type', 'POST', `${PORCH}/packagerevisions`, { ...prBase, spec: { ...spec, tasks: [{ type: 'teleport' }] } }, 422, 'teleport');
  pr('create with tasks as an object', 'POST', `${PORCH}/packagerevisions`, { ...prBase, spec: { ...spec, tasks: { type: 'init' } } }, 422, 'tasks');
  pr('create with spec.revision as a string', 'POST', `${PORCH}/packagerevisions`, { ...prBase, spec: { ...spec, revision: 'one' } }, 422, 'revision');
  pr('create editing a missing source', 'POST', `${PORCH}/packagerevisions`, { ...prBase, spec: { ...spec, tasks: [{ type: 'edit', edit: { sourceRef: { name: 'blue.nope.v1' } } }] } }, 422, 'sourceRef');
  pr('create setting the latest-revision label', 'POST', `${PORCH}/packagerevisions`, { ...prBase, metadata: { namespace: 'default', labels: { 'kpt.dev/latest-revision': 'true' } }, spec }, 422, 'latest-revision');
  pr('update to an unknown lifecycle', 'PATCH', `${PORCH}/packagerevisions/${draft}`, { spec: { lifecycle: 'Bogus' } }, 422, 'lifecycle', 'application/merge-patch+json');
  pr('update straight to Published', 'PATCH', `${PORCH}/packagerevisions/${draft}`, { spec: { lifecycle: 'Published' } }, 409, 'Published', 'application/merge-patch+json');
  pr('update changing the package name', 'PATCH', `${PORCH}/packagerevisions/${draft}`, { spec: { packageName: 'other' } }, 422, 'immutable', 'application/merge-patch+json');
  pr('approve a Draft', 'PATCH', `${PORCH}/packagerevisions/${draft}/approval`, { spec: { lifecycle: 'Published' } }, 409, 'Proposed', 'application/merge-patch+json');
  pr('approve with an unknown lifecycle', 'PATCH', `${PORCH}/packagerevisions/${draft}/approval`, { spec: { lifecycle: 'Bogus' } }, 422, 'lifecycle', 'application/merge-patch+json');
  pr('approval of an unknown revision', 'PATCH', `${PORCH}/packagerevisions/blue.nope.v1/approval`, { spec: { lifecycle: 'Published' } }, 404, 'not found', 'application/merge-patch+json');
  pr('delete a Published revision', 'DELETE', `${PORCH}/packagerevisions/${published}`, {}, 403, 'DeletionProposed');
  pr('create in a namespace that does not exist', 'POST', '/apis/porch.kpt.dev/v1alpha1/namespaces/nowhere/packagerevisions', { ...prBase, metadata: { namespace: 'nowhere' }, spec }, 404, 'nowhere');
  pr('list with a bad lifecycle selector', 'GET', `${PORCH}/packagerevisions?fieldSelector=spec.lifecycle%3DBogus`, undefined, 400, 'lifecycle');

  // Resource file names a package must never hold.
  const prrPath = `${PORCH}/packagerevisionresources/${draft}`;
  const kpt = 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: app\n';
  const files = (extra: Record<string, string>) => ({
    apiVersion: 'porch.kpt.dev/v1alpha1',
    kind: 'PackageRevisionResources',
    metadata: { name: draft, namespace: 'default' },
    spec: { resources: { Kptfile: kpt, ...extra } },
  });
  const gitUnsafe = ['.GIT/config', 'x/.Git/hooks/post-checkout', '.git./config', '.git /config', 'git~1/config', 'a/.git::$INDEX_ALLOCATION/x', '.g\u200cit/config', 'a\u0001b', 'x\ny.yaml'];
  for (const bad of ['../../x', '/etc/passwd', 'a/../../b', '.git/config', 'a\u0000b', '', 'a//b', './x', 'dir/', 'a\\..\\b', '..', ...gitUnsafe]) {
    out.push({ name: `packagerevisionresources PUT: resource file ${JSON.stringify(bad)}`, method: 'PUT', path: prrPath, contentType: 'application/json', body: JSON.stringify(files({ [bad]: 'x: 1\n' })), status: 422, mention: 'spec.resources' });
  }
  const prr = (name: string, body: unknown, status: number, mention: string) =>
    out.push({ name: `packagerevisionresources PUT: ${name}`, method: 'PUT', path: prrPath, contentType: 'application/json', body: JSON.stringify(body), status, mention });
  prr('a file that is also a directory', files({ 'Kptfile/x': 'a: 1\n' }), 422, 'spec.resources[Kptfile]');
  prr('a resource file that is also a directory', files({ 'a.yaml': 'a: 1\n', 'a.yaml/b.yaml': 'b: 1\n' }), 422, 'spec.resources[a.yaml]');
  prr('no Kptfile', { ...files({}), spec: { resources: { 'cm.yaml': 'a: 1\n' } } }, 422, 'Kptfile');
  prr('Kptfile that is not YAML', { ...files({}), spec: { resources: { Kptfile: 'a: [' } } }, 422, 'Kptfile');
  prr('Kptfile of another kind', { ...files({}), spec: { resources: { Kptfile: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n' } } }, 422, 'Kptfile');
  prr('resources as a list', { ...files({}), spec: { resources: ['a'] } }, 422, 'resources');
  prr('a resource that is not a string', { ...files({}), spec: { resources: { Kptfile: kpt, 'cm.yaml': 5 } } }, 422, 'resources');
  prr('resources of a published revision', { ...files({}), metadata: { name: published, namespace: 'default' } }, 400, 'name');
  out.push({
    name: 'packagerevisionresources PUT: the resources of a published revision',
    method: 'PUT',
    path: `${PORCH}/packagerevisionresources/${published}`,
    contentType: 'application/json',
    body: JSON.stringify({ ...files({}), metadata: { name: published, namespace: 'default' } }),
    status: 409,
    mention: 'Draft',
  });

  // Paths and verbs outside the API.
  const raw = (name: string, method: BadRequest['method'], path: string, status: number, mention: string) => out.push({ name: `path: ${name}`, method, path, status, mention });
  raw('unknown group', 'GET', '/apis/nothing.example.com/v1/things', 404, 'could not find');
  raw('unknown version', 'GET', '/apis/porch.kpt.dev/v9/namespaces/default/packagerevisions', 404, 'could not find');
  raw('unknown resource', 'GET', `${PORCH}/widgets`, 404, 'could not find');
  raw('DELETE on packages', 'DELETE', `${PORCH}/packages/blue.app`, 405, 'not supported');
  raw('POST on packages', 'POST', `${PORCH}/packages`, 405, 'not supported');
  // A namespace that cannot exist holds nothing (a list of it is empty, as in kube); naming an object in it is a 404.
  raw('traversal in the namespace of a secret', 'GET', '/api/v1/namespaces/..%2F..%2Fetc/secrets/passwd', 404, 'not found');
  raw('traversal in the namespace of a repository', 'GET', '/apis/config.porch.kpt.dev/v1alpha1/namespaces/..%2F..%2F..%2Ftmp/repositories/x', 404, 'not found');
  out.push({
    name: 'path: create in a traversal namespace',
    method: 'POST',
    path: '/api/v1/namespaces/..%2F..%2Ftmp/secrets',
    contentType: 'application/json',
    body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' }, stringData: { a: 'b' } }),
    status: 404,
    mention: 'not found',
  });
  return out;
}

/**
 * A part of the corpus in which every mistake (the part of a case's name after "<what>: ") and every
 * "<resource> <verb>" still occurs at least once: each rule is checked, on one resource or more.
 */
export function everyMistakeOnce(cases: BadRequest[]): BadRequest[] {
  const mistakes = new Set<string>();
  const targets = new Set<string>();
  return cases.filter((c) => {
    const colon = c.name.indexOf(': ');
    const target = c.name.slice(0, colon);
    const mistake = c.name.slice(colon + 2);
    if (mistakes.has(mistake) && targets.has(target)) return false;
    mistakes.add(mistake);
    targets.add(target);
    return true;
  });
}
