import type { KubeObject } from './meta.ts';
import type { ResourceDescriptor } from './resources.ts';

export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  object?: Record<string, unknown>;
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: { resourceVersion?: string };
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** Kubernetes' short human form of an age: 45s, 12m, 5h3m, 3d4h, 2y. */
export function humanAge(fromIso: string | null | undefined, now = Date.now()): string {
  if (!fromIso) return '<unknown>';
  const secs = Math.max(0, Math.floor((now - Date.parse(fromIso)) / 1000));
  if (secs < 120) return `${secs}s`;
  const mins = Math.floor(secs / 60);
  if (mins < 10) return secs % 60 === 0 ? `${mins}m` : `${mins}m${secs % 60}s`;
  if (mins < 180) return `${mins}m`;
  const hours = Math.floor(mins / 60);
  if (hours < 8) return mins % 60 === 0 ? `${hours}h` : `${hours}h${mins % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (days < 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (days < 365 * 2) return `${days}d`;
  return `${Math.floor(days / 365)}y`;
}

/** CRD-served resources get kube-apiserver's Age column; Porch's own resources do not have one. */
function hasAgeColumn(res: ResourceDescriptor): boolean {
  return res.backend === 'store';
}

export function tableColumns(res: ResourceDescriptor): TableColumnDefinition[] {
  const cols: TableColumnDefinition[] = [
    { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
  ];
  for (const c of res.printerColumns)
    cols.push({ name: c.name, type: c.type === 'date' ? 'string' : c.type, format: c.type === 'date' ? 'date' : '', description: c.description ?? '', priority: c.priority ?? 0 });
  if (hasAgeColumn(res))
    cols.push({ name: 'Age', type: 'date', format: '', description: 'CreationTimestamp of the object.', priority: 0 });
  return cols;
}

/** One object's row; a table takes `now` once, so every row's age is counted from the same instant. */
export function tableRow(res: ResourceDescriptor, obj: KubeObject, include: IncludeObject = 'Metadata', now = Date.now()): TableRow {
  const cells: unknown[] = [obj.metadata.name ?? ''];
  for (const c of res.printerColumns) cells.push(c.cell(obj));
  if (hasAgeColumn(res)) cells.push(humanAge(obj.metadata.creationTimestamp, now));
  const row: TableRow = { cells };
  if (include === 'Object') row.object = obj;
  else if (include === 'Metadata') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
  return row;
}

export function toTable(res: ResourceDescriptor, objects: readonly KubeObject[], resourceVersion: string | undefined, include: IncludeObject = 'Metadata'): Table {
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: resourceVersion ? { resourceVersion } : {},
    columnDefinitions: tableColumns(res),
    rows: objects.map((obj) => tableRow(res, obj, include, now)),
  };
}
