import { describe, expect, it } from 'vitest';
import { render } from '../../../lib/render/render.ts';
import { builtinRuntime } from '../../../lib/render/runtimes/builtin.ts';

// The catalog's documented examples of ensure-name-substring (examples/*/ of kpt-functions-catalog): the package as
// published, rendered with the built-in, must equal the package after the example's .expected/diff.patch.
// The examples pin `:unstable`; the built-in serves the released tag named here.

describe('built-in ensure-name-substring: catalog examples', () => {
  it('ensure-name-substring-prefix', async () => {
    const files: Record<string, string> = {
      'Kptfile': `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: example
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
    - image: gcr.io/kpt-fn/ensure-name-substring:v0.2.0
      configMap:
        prepend: prod-
`,
      'resources.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: the-map
  namespace: the-namespace
data:
  some-key: some-value
---
apiVersion: v1
kind: Pod
metadata:
  name: the-pod
  namespace: the-namespace
spec:
  containers:
    - name: test-container
      image: k8s.gcr.io/busybox
      command:
        - /bin/sh
        - -c
        - env
      env:
        - name: SOME_KEY
          valueFrom:
            configMapKeyRef:
              name: the-map
              key: some-key
---
apiVersion: v1
kind: Service
metadata:
  name: with-prod-service
  namespace: the-namespace
spec:
  ports:
    - name: etcd-server-ssl
      port: 2380
    - name: etcd-client-ssl
      port: 2379
  clusterIP: None
  publishNotReadyAddresses: true
---
apiVersion: v1
kind: Namespace
metadata:
  name: the-namespace
`,
    };
    const expected: Record<string, string> = {
      'resources.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: prod-the-map
  namespace: the-namespace
data:
  some-key: some-value
---
apiVersion: v1
kind: Pod
metadata:
  name: prod-the-pod
  namespace: the-namespace
spec:
  containers:
    - name: test-container
      image: k8s.gcr.io/busybox
      command:
        - /bin/sh
        - -c
        - env
      env:
        - name: SOME_KEY
          valueFrom:
            configMapKeyRef:
              name: prod-the-map
              key: some-key
---
apiVersion: v1
kind: Service
metadata:
  name: with-prod-service
  namespace: the-namespace
spec:
  ports:
    - name: etcd-server-ssl
      port: 2380
    - name: etcd-client-ssl
      port: 2379
  clusterIP: None
  publishNotReadyAddresses: true
---
apiVersion: v1
kind: Namespace
metadata:
  name: the-namespace
`,
    };
    const { files: out, results } = await render(files, { runtimes: [builtinRuntime()] });
    expect(results.exitCode).toBe(0);
    expect(out).toEqual({ ...expected, Kptfile: files.Kptfile });
  });

  it('ensure-name-substring-depends-on', async () => {
    const files: Record<string, string> = {
      'Kptfile': `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: example
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
    - image: gcr.io/kpt-fn/ensure-name-substring:v0.2.0
      configMap:
        prepend: prod-
`,
      'resources.yaml': `apiVersion: v1
kind: Deployment
metadata:
  annotations:
    config.kubernetes.io/depends-on: /namespaces/default/StatefulSet/wordpress-mysql
  labels:
    app: wordpress
  name: wordpress
  namespace: default
---
apiVersion: v1
kind: StatefulSet
metadata:
  labels:
    app: wordpress
  name: wordpress-mysql
  namespace: default
---
apiVersion: v1
kind: Deployment
metadata:
  annotations:
    config.kubernetes.io/depends-on: /namespaces/default/StatefulSet/outside-resource
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
  name: read-secrets-global
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: secret-reader
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: admin
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: secret-reader
`,
    };
    const expected: Record<string, string> = {
      'resources.yaml': `apiVersion: v1
kind: Deployment
metadata:
  annotations:
    config.kubernetes.io/depends-on: /namespaces/default/StatefulSet/prod-wordpress-mysql
  labels:
    app: wordpress
  name: prod-wordpress
  namespace: default
---
apiVersion: v1
kind: StatefulSet
metadata:
  labels:
    app: wordpress
  name: prod-wordpress-mysql
  namespace: default
---
apiVersion: v1
kind: Deployment
metadata:
  annotations:
    config.kubernetes.io/depends-on: /namespaces/default/StatefulSet/outside-resource
  labels:
    app: bar
  name: prod-bar
  namespace: default
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  annotations:
    config.kubernetes.io/depends-on: rbac.authorization.k8s.io/ClusterRole/prod-secret-reader
  name: prod-read-secrets-global
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: prod-secret-reader
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: admin
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: prod-secret-reader
`,
    };
    const { files: out, results } = await render(files, { runtimes: [builtinRuntime()] });
    expect(results.exitCode).toBe(0);
    expect(out).toEqual({ ...expected, Kptfile: files.Kptfile });
  });

});
