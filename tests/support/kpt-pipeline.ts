/**
 * One entry of a Kptfile's `pipeline.mutators` (or validators), indented to sit under that key, with its
 * inline configMap when it has one.
 */
export function mutator(image: string, configMap: Record<string, string> = {}): string {
  const entries = Object.entries(configMap);
  const config = entries.length ? `      configMap:\n${entries.map(([k, v]) => `        ${k}: ${JSON.stringify(v)}\n`).join('')}` : '';
  return `    - image: ${image}\n${config}`;
}
