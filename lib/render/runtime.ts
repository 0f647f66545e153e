import type { Document } from 'yaml';
import type { FunctionResultItem } from './types.ts';

/**
 * What a function sees and returns: ResourceList items as YAML documents. In-process functions
 * edit the documents (comments survive); process and network runtimes serialise them.
 */
export interface FunctionInput {
  items: Document[];
  functionConfig?: Document;
  /** In-process runtimes only: each item's file, relative to the package (the others read annotations). */
  paths?: string[];
  /** Aborted when the render is cancelled; runtimes that start work elsewhere stop it. */
  signal?: AbortSignal;
}

export interface FunctionOutput {
  items: Document[];
  results: FunctionResultItem[];
  /** Text the function wrote besides its output (stderr, the function runner's log). */
  log?: string;
}

/** A function a runtime can run; throws FunctionFailure when the function itself fails. */
export type FunctionRunner = (input: FunctionInput) => Promise<FunctionOutput>;

export interface FunctionRuntime {
  /** Named in the error for an image no runtime serves. */
  readonly name: string;
  /**
   * Runs in this process on documents: items are handed over as copies without the ResourceList
   * annotations and come back as the same objects (or new ones for created resources).
   */
  readonly inProcess?: boolean;
  /** The runner for this image, or undefined when this runtime does not serve it. */
  lookup(image: string): FunctionRunner | undefined;
}

/** A function ran and failed: non-zero exit, timeout, unreadable output, or an error it reported. */
export class FunctionFailure extends Error {
  override readonly name = 'FunctionFailure';

  constructor(
    message: string,
    readonly exitCode = 1,
    readonly results: FunctionResultItem[] = [],
    readonly log?: string,
  ) {
    super(message);
  }
}

/** The runtime serving the function could not be reached: nothing about the package is wrong. */
export class RuntimeUnavailable extends FunctionFailure {}
