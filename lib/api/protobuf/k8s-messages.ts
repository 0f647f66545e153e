import protobuf from 'protobufjs';
import descriptor from './k8s-messages.json' with { type: 'json' };

// The Kubernetes messages requests here may carry as protobuf, vendored from upstream as a protobufjs JSON
// descriptor (k8s-messages.json, with its licence and the upstream files it comes from). It is imported as a
// module so that the build emits it next to this file and a missing or broken descriptor stops the server at
// start rather than failing the first protobuf request.

/** The vendored Kubernetes message types, resolved. */
export const K8S_MESSAGES: protobuf.Root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
