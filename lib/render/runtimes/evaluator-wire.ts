import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

// The two messages of Porch's evaluator.proto (func/evaluator), in protobuf wire format:
//   EvaluateFunctionRequest  { bytes resource_list = 1; string image = 2; }
//   EvaluateFunctionResponse { bytes resource_list = 1; bytes log = 2; }

export const EVALUATE_PATH = '/evaluator.FunctionEvaluator/EvaluateFunction';

export interface EvaluateRequest {
  resourceList: Uint8Array;
  image: string;
}

export interface EvaluateResponse {
  resourceList: Uint8Array;
  log: Uint8Array;
}

/** How one length-delimited field is written and read, and its value when the message leaves it out. */
interface FieldType<T> {
  write(w: BinaryWriter, value: T): void;
  read(r: BinaryReader): T;
  absent(): T;
}

const BYTES: FieldType<Uint8Array> = { write: (w, v) => w.bytes(v), read: (r) => r.bytes(), absent: () => new Uint8Array() };
const STRING: FieldType<string> = { write: (w, v) => w.string(v), read: (r) => r.string(), absent: () => '' };

type Fields<M> = { [K in keyof M]: readonly [number, FieldType<M[K]>] };

/** Encoder and decoder of a message whose fields are all length-delimited; unknown fields are skipped. */
function messageCodec<M extends object>(fields: Fields<M>) {
  // Field order is the declaration order, which is field-number order here.
  const entries = Object.entries(fields) as [string, readonly [number, FieldType<unknown>]][];
  return {
    encode(message: M): Buffer {
      const w = new BinaryWriter();
      const values = message as Record<string, unknown>;
      for (const [name, [no, type]] of entries) type.write(w.tag(no, WireType.LengthDelimited), values[name]);
      return Buffer.from(w.finish());
    },
    decode(buf: Uint8Array): M {
      const r = new BinaryReader(buf);
      const out: Record<string, unknown> = {};
      for (const [name, [, type]] of entries) out[name] = type.absent();
      while (r.pos < r.len) {
        const [no, wire] = r.tag();
        const field = wire === WireType.LengthDelimited ? entries.find(([, [n]]) => n === no) : undefined;
        if (field) out[field[0]] = field[1][1].read(r);
        else r.skip(wire);
      }
      return out as M;
    },
  };
}

const REQUEST = messageCodec<EvaluateRequest>({ resourceList: [1, BYTES], image: [2, STRING] });
const RESPONSE = messageCodec<EvaluateResponse>({ resourceList: [1, BYTES], log: [2, BYTES] });

export const encodeRequest = REQUEST.encode;
export const decodeRequest = REQUEST.decode;
export const encodeResponse = RESPONSE.encode;
export const decodeResponse = RESPONSE.decode;
