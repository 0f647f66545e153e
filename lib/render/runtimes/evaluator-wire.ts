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

export function encodeRequest(req: EvaluateRequest): Buffer {
  const w = new BinaryWriter();
  w.tag(1, WireType.LengthDelimited).bytes(req.resourceList);
  w.tag(2, WireType.LengthDelimited).string(req.image);
  return Buffer.from(w.finish());
}

export function decodeRequest(buf: Uint8Array): EvaluateRequest {
  const r = new BinaryReader(buf);
  const out: EvaluateRequest = { resourceList: new Uint8Array(), image: '' };
  while (r.pos < r.len) {
    const [field, type] = r.tag();
    if (field === 1 && type === WireType.LengthDelimited) out.resourceList = r.bytes();
    else if (field === 2 && type === WireType.LengthDelimited) out.image = r.string();
    else r.skip(type);
  }
  return out;
}

export function encodeResponse(res: EvaluateResponse): Buffer {
  const w = new BinaryWriter();
  w.tag(1, WireType.LengthDelimited).bytes(res.resourceList);
  w.tag(2, WireType.LengthDelimited).bytes(res.log);
  return Buffer.from(w.finish());
}

export function decodeResponse(buf: Uint8Array): EvaluateResponse {
  const r = new BinaryReader(buf);
  const out: EvaluateResponse = { resourceList: new Uint8Array(), log: new Uint8Array() };
  while (r.pos < r.len) {
    const [field, type] = r.tag();
    if (field === 1 && type === WireType.LengthDelimited) out.resourceList = r.bytes();
    else if (field === 2 && type === WireType.LengthDelimited) out.log = r.bytes();
    else r.skip(type);
  }
  return out;
}
