import { describe, expect, it } from 'vitest';
import { requestAttributes, type RequestAttributes } from '../../../lib/auth/attributes.ts';
import { StatusError } from '../../../lib/errors.ts';

type Want = Partial<RequestAttributes>;

const P = '/apis/porch.kpt.dev/v1alpha1';

// Expected values follow kube-apiserver's RequestInfoFactory for the same requests.
const cases: [string, string, Want][] = [
  ['GET', `${P}/namespaces/team-a/packagerevisions`, { isResourceRequest: true, verb: 'list', apiGroup: 'porch.kpt.dev', apiVersion: 'v1alpha1', namespace: 'team-a', resource: 'packagerevisions', name: '' }],
  ['GET', `${P}/packagerevisions`, { verb: 'list', namespace: '', resource: 'packagerevisions' }],
  ['GET', `${P}/namespaces/team-a/packagerevisions?watch=true`, { verb: 'watch', namespace: 'team-a' }],
  ['GET', `${P}/namespaces/team-a/packagerevisions?watch=1&resourceVersion=5`, { verb: 'watch' }],
  ['GET', `${P}/namespaces/team-a/packagerevisions?watch=false`, { verb: 'list' }],
  ['GET', `${P}/namespaces/team-a/packagerevisions?watch`, { verb: 'watch' }],
  ['GET', `${P}/watch/namespaces/team-a/packagerevisions`, { verb: 'watch', namespace: 'team-a', resource: 'packagerevisions', name: '' }],
  ['GET', `${P}/watch/namespaces/team-a/packagerevisions/r1`, { verb: 'watch', namespace: 'team-a', resource: 'packagerevisions', name: 'r1' }],
  ['GET', `${P}/watch/packagerevisions`, { verb: 'watch', namespace: '', resource: 'packagerevisions' }],
  ['GET', `${P}/namespaces/team-a/packagerevisions/r1`, { verb: 'get', name: 'r1', subresource: '' }],
  ['HEAD', `${P}/namespaces/team-a/packagerevisions/r1`, { verb: 'get', name: 'r1' }],
  ['GET', `${P}/namespaces/team-a/packagerevisions/r1?watch=true`, { verb: 'get', name: 'r1' }],
  ['GET', `${P}/namespaces/team-a/packagerevisions?fieldSelector=metadata.name%3Dr1&watch=true`, { verb: 'watch', name: 'r1' }],
  ['GET', `${P}/namespaces/team-a/packagerevisions?fieldSelector=metadata.name!%3Dr1`, { verb: 'list', name: '' }],
  ['GET', `${P}/namespaces/team-a/packagerevisions?fieldSelector=spec.lifecycle%3DDraft,metadata.name%3D%3Dr2`, { verb: 'list', name: 'r2' }],
  ['GET', `${P}/namespaces/team-a/packagerevisions?fieldSelector=metadata.name%3Dr1&limit=abc`, { verb: 'list', name: '' }],
  ['POST', `${P}/namespaces/team-a/packagerevisions`, { verb: 'create', name: '' }],
  ['PUT', `${P}/namespaces/team-a/packagerevisions/r1`, { verb: 'update', name: 'r1' }],
  ['PUT', `${P}/namespaces/team-a/packagerevisions/r1/approval`, { verb: 'update', resource: 'packagerevisions', name: 'r1', subresource: 'approval' }],
  ['PATCH', `${P}/namespaces/team-a/packagerevisions/r1`, { verb: 'patch', name: 'r1' }],
  ['DELETE', `${P}/namespaces/team-a/packagerevisions/r1`, { verb: 'delete', name: 'r1' }],
  ['DELETE', `${P}/namespaces/team-a/packagerevisions`, { verb: 'deletecollection', name: '' }],
  ['GET', `${P}/namespaces/team-a/packagerevisionresources/r1`, { verb: 'get', resource: 'packagerevisionresources', name: 'r1' }],
  ['OPTIONS', `${P}/namespaces/team-a/packagerevisions`, { isResourceRequest: true, verb: '' }],
  // Core group: the legacy /api prefix has no group segment.
  ['GET', '/api/v1/namespaces/team-a/configmaps/c', { isResourceRequest: true, apiPrefix: 'api', apiGroup: '', apiVersion: 'v1', namespace: 'team-a', resource: 'configmaps', name: 'c' }],
  ['GET', '/api/v1/pods', { verb: 'list', resource: 'pods', namespace: '' }],
  // namespaces/<name> is the Namespace itself; kube still records the namespace attribute.
  ['GET', '/api/v1/namespaces', { verb: 'list', resource: 'namespaces', namespace: '', name: '' }],
  ['GET', '/api/v1/namespaces/team-a', { verb: 'get', resource: 'namespaces', name: 'team-a', namespace: 'team-a' }],
  ['DELETE', '/api/v1/namespaces/team-a', { verb: 'delete', resource: 'namespaces', name: 'team-a', namespace: 'team-a' }],
  ['PUT', '/api/v1/namespaces/team-a/status', { verb: 'update', resource: 'namespaces', name: 'team-a', subresource: 'status', namespace: 'team-a' }],
  ['PUT', '/api/v1/namespaces/team-a/finalize', { resource: 'namespaces', subresource: 'finalize' }],
  ['GET', '/api/v1/proxy/namespaces/ns/pods/p/some/path', { verb: 'proxy', resource: 'pods', name: 'p', subresource: '' }],
  ['GET', '/api/v1/namespaces/team-a/pods/p/log/extra', { resource: 'pods', name: 'p', subresource: 'log', parts: ['pods', 'p', 'log', 'extra'] }],
  ['GET', '/api/v1/namespaces/team%2Da/pods', { namespace: 'team-a' }],
  // Non-resource requests keep the lower-case HTTP method as the verb.
  ['GET', '/healthz', { isResourceRequest: false, verb: 'get', path: '/healthz' }],
  ['GET', '/version', { isResourceRequest: false, verb: 'get', path: '/version' }],
  ['GET', '/apis', { isResourceRequest: false, path: '/apis' }],
  ['GET', '/apis/porch.kpt.dev', { isResourceRequest: false }],
  ['GET', '/apis/porch.kpt.dev/v1alpha1', { isResourceRequest: false, verb: 'get' }],
  ['GET', '/api', { isResourceRequest: false }],
  ['GET', '/api/v1', { isResourceRequest: false }],
  ['GET', '/openapi/v3/apis/porch.kpt.dev/v1alpha1', { isResourceRequest: false, path: '/openapi/v3/apis/porch.kpt.dev/v1alpha1' }],
  ['POST', '/logs/x', { isResourceRequest: false, verb: 'post' }],
  ['GET', '/', { isResourceRequest: false, path: '/' }],
];

describe('requestAttributes', () => {
  for (const [method, target, want] of cases)
    it(`${method} ${target}`, () => {
      expect(requestAttributes(method, target)).toMatchObject(want);
    });

  it('accepts a full URL', () => {
    expect(requestAttributes('GET', new URL(`https://127.0.0.1:7007${P}/namespaces/x/packages?watch=true`))).toMatchObject({ verb: 'watch', resource: 'packages', namespace: 'x' });
  });

  it('refuses a watch path that names nothing, as kube-apiserver does with a 500', () => {
    for (const path of ['/api/v1/watch', `${P}/watch`]) {
      let caught: unknown;
      try {
        requestAttributes('GET', path);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(StatusError);
      expect((caught as StatusError).code).toBe(500);
    }
  });
});
