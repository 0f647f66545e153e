// Kptfiles with a mutator pipeline, for the tests and benchmarks that render packages.

/** One step of a pipeline: an image (or, to test that it is refused, an exec) and its configMap. */
export interface FunctionStep {
  image?: string;
  exec?: string;
  configMap?: Record<string, string>;
}

/** The YAML of `steps` as the items of `pipeline.mutators`. */
function mutatorsYaml(steps: FunctionStep[]): string {
  return steps
    .map((s) => {
      const head = s.exec !== undefined ? `    - exec: ${s.exec}\n` : `    - image: ${s.image ?? ''}\n`;
      const config = Object.entries(s.configMap ?? {}).map(([key, value]) => `        ${key}: ${JSON.stringify(value)}\n`);
      return config.length ? `${head}      configMap:\n${config.join('')}` : head;
    })
    .join('');
}

/** A Kptfile for package `name` with `description`; with `steps`, their mutator pipeline. */
export function pipelineKptfile(name: string, description: string, steps: FunctionStep[] = []): string {
  const head = `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: ${name}\ninfo:\n  description: ${description}\n`;
  return steps.length ? `${head}pipeline:\n  mutators:\n${mutatorsYaml(steps)}` : head;
}
