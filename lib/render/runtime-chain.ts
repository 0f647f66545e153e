import { RenderError } from './errors.ts';
import type { FunctionRunner, FunctionRuntime } from './runtime.ts';

/** The first runtime that serves an image; the error lists every runtime asked. */
export function findRunner(runtimes: readonly FunctionRuntime[], image: string): { runtime: FunctionRuntime; runner: FunctionRunner } {
  for (const rt of runtimes) {
    const runner = rt.lookup(image);
    if (runner) return { runtime: rt, runner };
  }
  const tried = runtimes.map((r) => r.name).join(', ') || 'none configured';
  throw new RenderError('unknown-function', `function "${image}" is not available: no runtime serves it (tried: ${tried})`, image);
}
