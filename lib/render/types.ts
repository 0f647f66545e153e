import type { Document } from 'yaml';

/** File contents: text, or bytes for files that may not be UTF-8 (they pass through untouched). */
export type FileContent = string | Uint8Array;

/** A package as relative path → contents; the root Kptfile is at "Kptfile". */
export type PackageFiles = Readonly<Record<string, FileContent>>;

/** One resource while the pipeline runs: its document and where it is written back. */
export interface KrmItem {
  doc: Document;
  /** Relative to the root package; undefined for a resource a function created without a path. */
  path?: string;
  index?: number;
}

export type Severity = 'error' | 'warning' | 'info';

/** One entry of a function's `results` (kpt's framework.Result). */
export interface FunctionResultItem {
  message: string;
  severity?: Severity;
  resourceRef?: { apiVersion?: string; kind?: string; name?: string; namespace?: string };
  field?: { path?: string; currentValue?: unknown; proposedValue?: unknown };
  file?: { path?: string; index?: number };
  tags?: Record<string, string>;
}

/** What kpt records for one function run (an item of kpt.dev/v1 FunctionResultList). */
export interface FunctionResult {
  image?: string;
  exec?: string;
  exitCode: number;
  results?: FunctionResultItem[];
  stderr?: string;
}

export interface FunctionResultList {
  apiVersion: 'kpt.dev/v1';
  kind: 'FunctionResultList';
  metadata: { name: 'fnresults' };
  exitCode: number;
  items: FunctionResult[];
}

export interface RenderResult {
  files: Record<string, FileContent>;
  results: FunctionResultList;
}
