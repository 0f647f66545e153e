import { errors } from '../errors.ts';

// A decoded request body is walked recursively all over the server (validation, defaulting,
// freezing, comparison); a body nested thousands deep overflows the stack there. No Kubernetes
// object comes near this depth, so deeper bodies are refused where they are decoded.

export const MAX_BODY_DEPTH = 200;

/** The depth of a JSON value (a scalar is 0, `{}` and `[]` are 1), counted without recursion. */
function exceedsDepth(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > max) return true;
    for (const child of Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

function tooDeep(max: number) {
  return errors.badRequest(`the request body is nested more than ${max} levels deep`);
}

/** A 400 for a decoded body nested deeper than `max`. */
export function checkNesting(value: unknown, max = MAX_BODY_DEPTH): void {
  if (exceedsDepth(value, max)) throw tooDeep(max);
}

/**
 * The 400 for a decoder that ran out of stack (yaml's parser does, some 800 levels down, and reports
 * it as a parse error); undefined for any other decoding error.
 */
export function nestingError(err: unknown, max = MAX_BODY_DEPTH) {
  const message = err instanceof Error ? err.message : String(err);
  return err instanceof RangeError || message.startsWith('Maximum call stack size exceeded') ? tooDeep(max) : undefined;
}
