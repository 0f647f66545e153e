import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import YAML from 'yaml';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, EVALUATE_PATH, type EvaluateRequest, type EvaluateResponse } from '../../lib/render/runtimes/evaluator-wire.ts';

// A stand-in for Porch's function runner (the real one starts a pod per image, which cannot exist
// here): the evaluator.FunctionEvaluator service on a local port. It annotates every item with the
// image that "ran", fails example.com/broken the way the real runner reports a failed function pod,
// and returns a log.

export interface FunctionRunnerStandIn {
  address: string;
  /** Images asked for, in order. */
  seen: string[];
  stop(): void;
}

const service = {
  EvaluateFunction: {
    path: EVALUATE_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: encodeRequest,
    requestDeserialize: (b: Buffer) => decodeRequest(b),
    responseSerialize: encodeResponse,
    responseDeserialize: (b: Buffer) => decodeResponse(b),
  },
};

export async function startFunctionRunnerStandIn(): Promise<FunctionRunnerStandIn> {
  const seen: string[] = [];
  const evaluate = (call: ServerUnaryCall<EvaluateRequest, EvaluateResponse>, done: sendUnaryData<EvaluateResponse>): void => {
    const { image, resourceList } = call.request;
    seen.push(image);
    if (image.startsWith('example.com/broken')) {
      done({ code: status.INTERNAL, details: 'function pod exited with 1: broken on purpose' });
      return;
    }
    const rl = YAML.parse(Buffer.from(resourceList).toString('utf8')) as { items: { metadata: { annotations?: Record<string, string> } }[] };
    for (const it of rl.items) it.metadata.annotations = { ...it.metadata.annotations, 'ran-by': image };
    done(null, { resourceList: Buffer.from(YAML.stringify(rl)), log: Buffer.from(`ran ${image}\n`) });
  };
  const server = new Server();
  server.addService(service, { EvaluateFunction: evaluate } as UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { address: `127.0.0.1:${port}`, seen, stop: () => server.forceShutdown() };
}
