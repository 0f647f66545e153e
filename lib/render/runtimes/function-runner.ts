import { credentials, Client, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { decodeResourceList, encodeResourceList } from '../resource-list.ts';
import { FunctionFailure, RuntimeUnavailable, type FunctionRuntime } from '../runtime.ts';
import { decodeResponse, encodeRequest, EVALUATE_PATH, type EvaluateResponse } from './evaluator-wire.ts';

export interface FunctionRunnerOptions {
  /** HOST:PORT of Porch's function runner. */
  address: string;
  /** Per call; the runner starts a pod for a new image, which can take a while. */
  timeoutMs?: number;
  maxMessageBytes?: number;
}

export interface FunctionRunnerRuntime extends FunctionRuntime {
  close(): void;
}

/**
 * Porch's function runner (evaluator.FunctionEvaluator over plaintext gRPC, as in-cluster Porch
 * talks to it). It serves every image: it is the last runtime asked.
 */
export function functionRunnerRuntime(opts: FunctionRunnerOptions): FunctionRunnerRuntime {
  const max = opts.maxMessageBytes ?? 64 * 1024 * 1024;
  const client = new Client(opts.address, credentials.createInsecure(), { 'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': max });
  const call = (image: string, resourceList: string, signal?: AbortSignal) =>
    new Promise<EvaluateResponse>((resolve, reject) => {
      const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
      const cancel = () => c.cancel();
      const c = client.makeUnaryRequest(EVALUATE_PATH, encodeRequest, decodeResponse, { resourceList: Buffer.from(resourceList), image }, new Metadata(), { deadline }, (err: ServiceError | null, res?: EvaluateResponse) => {
        signal?.removeEventListener('abort', cancel);
        if (err || !res) reject(err);
        else resolve(res);
      });
      signal?.addEventListener('abort', cancel, { once: true });
    });
  return {
    name: `function runner (${opts.address})`,
    lookup(image) {
      return async ({ items, functionConfig, signal }) => {
        let res: EvaluateResponse;
        try {
          res = await call(image, encodeResourceList(items, functionConfig), signal);
        } catch (err) {
          const e = err as ServiceError;
          // The runner answers a failed function with an error status whose details carry its output.
          if (e && typeof e.code === 'number' && e.code !== status.UNAVAILABLE) throw new FunctionFailure(e.details || e.message, 1);
          throw new RuntimeUnavailable(`function runner at ${opts.address} is unavailable: ${e?.details || String(err)}`, 1);
        }
        const log = Buffer.from(res.log).toString('utf8');
        const out = decodeResourceList(Buffer.from(res.resourceList).toString('utf8'));
        if (out.results.some((r) => r.severity === 'error')) throw new FunctionFailure(out.results.filter((r) => r.severity === 'error').map((r) => r.message).join('; '), 1, out.results, log);
        return { ...out, log };
      };
    },
    close: () => client.close(),
  };
}
