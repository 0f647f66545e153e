import type { FunctionResultList } from './types.ts';

const PREFIX = 'error rendering package in kpt function pipeline';

/**
 * A render that failed. `reason` tells the engine what status to answer with: a pipeline that is
 * not allowed or not well-formed is the tenant's input (422); a function that fails is a failed
 * request for the contents as they are (also the tenant's to fix, as Porch reports it); a runtime
 * that cannot be reached (the function runner) is the server's, and passes.
 */
export class RenderError extends Error {
  override readonly name = 'RenderError';

  constructor(
    readonly reason: 'invalid-pipeline' | 'function-failed' | 'unknown-function' | 'invalid-resources' | 'runtime-unavailable',
    detail: string,
    /** The function (image or exec) that failed, when one did. */
    readonly fn?: string,
    /** Results of every function that ran up to and including the failed one. */
    readonly results?: FunctionResultList,
  ) {
    super(`${PREFIX}: ${detail}`);
  }
}
