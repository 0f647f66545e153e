import type { Document } from 'yaml';
import type { FunctionResultItem } from '../types.ts';

/**
 * A catalog function built into the server: edits the (copied) items in place and returns its
 * results; throws FunctionFailure for a config it cannot use.
 */
export type BuiltinFunction = (items: Document[], config: Document | undefined, paths?: readonly string[]) => FunctionResultItem[];

export interface BuiltinEntry {
  name: string;
  /** Tags whose documented behaviour the implementation follows. */
  tags: RegExp;
  /** The tags as the README lists them. */
  accepted: string;
  fn: BuiltinFunction;
}
