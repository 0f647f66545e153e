import { isMap, isScalar, Scalar, type Node, type Pair } from 'yaml';

// Reading fields of yaml nodes the way the merge compares them: keys and key fields as text.

export type Side = Node | undefined;

export function keyText(p: Pair): string {
  return isScalar(p.key) ? String(p.key.value) : String(p.key);
}

/** The value of a pair as a field: a null scalar when present but empty or null. */
export function pairValue(p: Pair | undefined): Side {
  return p ? ((p.value as Node | null) ?? new Scalar(null)) : undefined;
}

/** A field of a map: undefined when absent; a null scalar when present but empty or null. */
export function field(map: Side, key: string): Side {
  if (!isMap(map)) return undefined;
  return pairValue((map.items as Pair[]).find((p) => keyText(p) === key));
}

export function scalarText(n: Side): string {
  if (!isScalar(n) || n.value === null || n.value === undefined) return '';
  return String(n.value);
}
