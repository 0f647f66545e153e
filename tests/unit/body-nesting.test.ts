import { describe, expect, it } from 'vitest';
import { StatusError } from '../../lib/errors.ts';
import { checkNesting, MAX_BODY_DEPTH, nestingError } from '../../lib/api/nesting.ts';

// A request body nested deeper than any Kubernetes object is a 400, found without recursion.

const nested = (depth: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? { a: v } : [v];
  return v;
};

describe('body nesting', () => {
  it('accepts a body nested up to the limit', () => {
    expect(() => checkNesting(nested(MAX_BODY_DEPTH))).not.toThrow();
    expect(() => checkNesting({ a: 'scalar', b: [1, 2, { c: null }] })).not.toThrow();
  });

  it('refuses one level more, and 100,000 levels, with a 400', () => {
    for (const depth of [MAX_BODY_DEPTH + 1, 100_000]) {
      let err: unknown;
      try {
        checkNesting(nested(depth));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(StatusError);
      expect((err as StatusError).code).toBe(400);
      expect((err as StatusError).message).toContain(`nested more than ${MAX_BODY_DEPTH} levels`);
    }
  });

  it('ends on a cyclic value (YAML aliases can make one)', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => checkNesting(cyclic)).toThrow(StatusError);
  });

  it('turns a decoder that ran out of stack into the same 400', () => {
    expect(nestingError(new RangeError('Maximum call stack size exceeded'))?.code).toBe(400);
    expect(nestingError(new Error('Maximum call stack size exceeded at line 1, column 799:'))?.code).toBe(400);
    expect(nestingError(new Error('Unexpected token'))).toBeUndefined();
  });
});
