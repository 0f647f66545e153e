import { describe, expect, it } from 'vitest';
import { render } from '../../../lib/render/render.ts';
import { builtinRuntime } from '../../../lib/render/runtimes/builtin.ts';

// The catalog's documented examples of set-namespace (examples/*/ of kpt-functions-catalog): the package as
// published, rendered with the built-in, must equal the package after the example's .expected/diff.patch.
// The examples pin `:unstable`; the built-in serves the released tag named here.

describe('built-in set-namespace: catalog examples', () => {
  it('set-namespace-simple', async () => {
    const files: Record<string, string> = {
      'Kptfile': `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: example
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
    - image: gcr.io/kpt-fn/set-namespace:v0.4.1
      configMap:
        namespace: example-ns
`,
      'resources.yaml': `apiVersion: v1
kind: Service
metadata:
  name: the-service
  namespace: example
---
apiVersion: v1
kind: Namespace
metadata:
  name: example
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: the-crd
spec:
  conversion:
    strategy: Webhook
    webhook:
      clientConfig:
        service:
          name: crd-svc
          namespace: example
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: the-api-service
spec:
  service:
    name: api-svc
    namespace: example
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: crb1
subjects:
  - kind: ServiceAccount
    name: default
    namespace: example
`,
    };
    const expected: Record<string, string> = {
      'resources.yaml': `apiVersion: v1
kind: Service
metadata:
  name: the-service
  namespace: example-ns
---
apiVersion: v1
kind: Namespace
metadata:
  name: example-ns
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: the-crd
spec:
  conversion:
    strategy: Webhook
    webhook:
      clientConfig:
        service:
          name: crd-svc
          namespace: example-ns
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: the-api-service
spec:
  service:
    name: api-svc
    namespace: example-ns
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: crb1
subjects:
  - kind: ServiceAccount
    name: default
    namespace: example-ns
`,
    };
    const { files: out, results } = await render(files, { runtimes: [builtinRuntime()] });
    expect(results.exitCode).toBe(0);
    expect(out).toEqual({ ...expected, Kptfile: files.Kptfile });
  });

  it('set-namespace-depends-on', async () => {
    const files: Record<string, string> = {
      'Kptfile': `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: example
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
    - image: gcr.io/kpt-fn/set-namespace:v0.4.1
      configMap:
        namespace: example-ns
`,
      'resources.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
    config.kubernetes.io/depends-on: apps/namespaces/default/StatefulSet/wordpress-mysql
    internal.kpt.dev/upstream-identifier: apps|Deployment|example|wordpress
  labels:
    app: wordpress
  name: wordpress
  namespace: default
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  labels:
    app: wordpress
  name: wordpress-mysql
  namespace: default
---
apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
    config.kubernetes.io/depends-on: apps/namespaces/default/StatefulSet/outside-resource
    internal.kpt.dev/upstream-identifier: apps|Deployment|example|bar
  labels:
    app: bar
  name: bar
  namespace: default
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  annotations:
    config.kubernetes.io/depends-on: rbac.authorization.k8s.io/ClusterRole/secret-reader
    internal.kpt.dev/upstream-identifier: rbac.authorization.k8s.io|ClusterRoleBinding|~C|read-secrets-global
  name: read-secrets-global
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: secret-reader
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: admin
`,
    };
    const expected: Record<string, string> = {
      'resources.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
    config.kubernetes.io/depends-on: apps/namespaces/example-ns/StatefulSet/wordpress-mysql
    internal.kpt.dev/upstream-identifier: apps|Deployment|example|wordpress
  labels:
    app: wordpress
  name: wordpress
  namespace: example-ns
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  labels:
    app: wordpress
  name: wordpress-mysql
  namespace: example-ns
---
apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
    config.kubernetes.io/depends-on: apps/namespaces/default/StatefulSet/outside-resource
    internal.kpt.dev/upstream-identifier: apps|Deployment|example|bar
  labels:
    app: bar
  name: bar
  namespace: example-ns
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  annotations:
    config.kubernetes.io/depends-on: rbac.authorization.k8s.io/ClusterRole/secret-reader
    internal.kpt.dev/upstream-identifier: rbac.authorization.k8s.io|ClusterRoleBinding|~C|read-secrets-global
  name: read-secrets-global
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: secret-reader
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: admin
`,
    };
    const { files: out, results } = await render(files, { runtimes: [builtinRuntime()] });
    expect(results.exitCode).toBe(0);
    expect(out).toEqual({ ...expected, Kptfile: files.Kptfile });
  });

  it('set-namespace-kpt-package-context', async () => {
    const files: Record<string, string> = {
      'Kptfile': `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: example
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
    - image: gcr.io/kpt-fn/set-namespace:v0.4.1
      configPath: package-context.yaml
`,
      'packagecontext.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: kptfile.kpt.dev
  annotations:
    config.kubernetes.io/local-config: "true"
data:
  name: set-namespace-kpt-package-context
`,
      'resources.yaml': `apiVersion: v1
kind: Service
metadata:
  name: the-service
  namespace: old
  annotations:
    internal.kpt.dev/upstream-identifier: "|Service|example|the-service"
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: the-crd
  annotations:
    internal.kpt.dev/upstream-identifier: apiextensions.k8s.io|CustomResourceDefinition|~C|the-crd
spec:
  conversion:
    strategy: Webhook
    webhook:
      clientConfig:
        service:
          name: crd-svc
          namespace: old
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: the-api-service
  annotations:
    internal.kpt.dev/upstream-identifier: apiregistration.k8s.io|APIService|~C|the-api-service
spec:
  service:
    name: api-svc
    namespace: old
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: crb1
  annotations:
    internal.kpt.dev/upstream-identifier: rbac.authorization.k8s.io|ClusterRoleBinding|~C|crb1
subjects:
  - kind: ServiceAccount
    name: default
    namespace: old
`,
      'package-context.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: kptfile.kpt.dev
  annotations:
    config.kubernetes.io/local-config: "true"
data:
  name: example
`,
    };
    const expected: Record<string, string> = {
      'package-context.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: kptfile.kpt.dev
  annotations:
    config.kubernetes.io/local-config: "true"
data:
  name: example
`,
      'packagecontext.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: kptfile.kpt.dev
  annotations:
    config.kubernetes.io/local-config: "true"
data:
  name: set-namespace-kpt-package-context
`,
      'resources.yaml': `apiVersion: v1
kind: Service
metadata:
  name: the-service
  namespace: example
  annotations:
    internal.kpt.dev/upstream-identifier: "|Service|example|the-service"
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: the-crd
  annotations:
    internal.kpt.dev/upstream-identifier: apiextensions.k8s.io|CustomResourceDefinition|~C|the-crd
spec:
  conversion:
    strategy: Webhook
    webhook:
      clientConfig:
        service:
          name: crd-svc
          namespace: example
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: the-api-service
  annotations:
    internal.kpt.dev/upstream-identifier: apiregistration.k8s.io|APIService|~C|the-api-service
spec:
  service:
    name: api-svc
    namespace: example
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: crb1
  annotations:
    internal.kpt.dev/upstream-identifier: rbac.authorization.k8s.io|ClusterRoleBinding|~C|crb1
subjects:
  - kind: ServiceAccount
    name: default
    namespace: example
`,
    };
    const { files: out, results } = await render(files, { runtimes: [builtinRuntime()] });
    expect(results.exitCode).toBe(0);
    expect(out).toEqual({ ...expected, Kptfile: files.Kptfile });
  });

});
