// The rendering library: `render` runs a package's Kptfile pipelines over the runtimes the server
// was started with. The engine builds the runtimes once (`createRuntimes`) and renders each draft.
import { readFileSync } from 'node:fs';
import { loadFunctionConfig } from './function-config.ts';
import type { FunctionRuntime } from './runtime.ts';
import { builtinRuntime } from './runtimes/builtin.ts';
import { execRuntime } from './runtimes/exec.ts';
import { functionRunnerRuntime } from './runtimes/function-runner.ts';

export { render, tryRender, readPipelines, type RenderOptions, type RenderOutcome } from './render.ts';
export { RenderError } from './errors.ts';
export { FunctionFailure, RuntimeUnavailable, type FunctionRuntime, type FunctionRunner, type FunctionInput, type FunctionOutput } from './runtime.ts';
export { loadFunctionConfig, type ExecFunction } from './function-config.ts';
export { readPipeline, type Pipeline, type PipelineProblem, type FunctionSpec, type Selector } from './pipeline-spec.ts';
export { builtinRuntime, builtinFor } from './runtimes/builtin.ts';
export { BUILTINS } from './builtin/registry.ts';
export { execRuntime } from './runtimes/exec.ts';
export { functionRunnerRuntime } from './runtimes/function-runner.ts';
export type * from './types.ts';

export interface RuntimeFlags {
  /** `--function-config FILE` */
  functionConfig?: string;
  /** `--function-runner HOST:PORT` */
  functionRunner?: string;
}

/** The runtimes in the order they are asked: built-in, the operator's executables, the function runner. */
export function createRuntimes(flags: RuntimeFlags): { runtimes: FunctionRuntime[]; close(): void } {
  const runtimes: FunctionRuntime[] = [builtinRuntime()];
  if (flags.functionConfig) runtimes.push(execRuntime(loadFunctionConfig(readFileSync(flags.functionConfig, 'utf8'))));
  const runner = flags.functionRunner ? functionRunnerRuntime({ address: flags.functionRunner }) : undefined;
  if (runner) runtimes.push(runner);
  return { runtimes, close: () => runner?.close() };
}
