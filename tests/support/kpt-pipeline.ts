// Kptfiles with a mutator pipeline, for the tests and benchmarks that render packages.

/** One step of a pipeline: an image (or, to test that it is refused, an exec) and its configMap. */
export interface FunctionStep {
  image?: string;
  exec?: string;
  configMap?: Record<string, string>;
}

/**
 * One entry of a Kptfile's `pipeline.mutators` (or validators), indented to sit under that key, with its
 * inline configMap when it has one.
 */
export function mutator(step: FunctionStep): string {
  const head = step.exec !== undefined ? `    - exec: ${step.exec}\n` : `    - image: ${step.image ?? ''}\n`;
  const entries = Object.entries(step.configMap ?? {});
  const config = entries.length ? `      configMap:\n${entries.map(([k, v]) => `        ${k}: ${JSON.stringify(v)}\n`).join('')}` : '';
  return `${head}${config}`;
}

/** A Kptfile for package `name` with `description`; with `steps`, their mutator pipeline. */
export function pipelineKptfile(name: string, description: string, steps: FunctionStep[] = []): string {
  const head = `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: ${name}\ninfo:\n  description: ${description}\n`;
  return steps.length ? `${head}pipeline:\n  mutators:\n${steps.map(mutator).join('')}` : head;
}
