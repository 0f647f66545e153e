import type { StatusCause } from '../errors.ts';
import { isRecord } from '../util.ts';
import { dnsSubdomainProblem } from './meta.ts';

// kube-apiserver's ObjectMeta checks that a schema cannot express: label and annotation keys are
// qualified names, label values are short tokens, annotations fit in 256 KiB, finalizers are
// qualified names. Messages follow apimachinery's wording so clients see familiar errors.

const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const NAME_PART_RULE =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc')";
const TOTAL_ANNOTATION_BYTES = 256 * 1024;

/** Why `key` is not a qualified name (`[prefix/]name`), or undefined. */
export function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return `a qualified name must consist of alphanumeric characters, '-', '_' or '.', with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`;
  const [prefix, name] = parts.length === 2 ? parts : [undefined, parts[0]];
  if (prefix !== undefined) {
    if (!prefix) return 'prefix part must be non-empty';
    const p = dnsSubdomainProblem(prefix);
    if (p) return `prefix part ${p}`;
  }
  if (!name) return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!NAME_PART.test(name)) return NAME_PART_RULE;
  return undefined;
}

function labelValueProblem(value: string): string | undefined {
  if (value.length > 63) return 'must be no more than 63 characters';
  if (!LABEL_VALUE.test(value))
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345')";
  return undefined;
}

function mapCauses(field: string, value: unknown, check: (k: string, v: unknown) => StatusCause[]): StatusCause[] {
  if (value === undefined || value === null) return [];
  if (!isRecord(value)) return [{ field, message: `Invalid value: ${Array.isArray(value) ? 'array' : typeof value}: expected a map of strings` }];
  return Object.entries(value).flatMap(([k, v]) => check(k, v));
}

/** What is wrong with an object's metadata beyond its shape; empty when nothing. */
export function metadataCauses(meta: unknown): StatusCause[] {
  if (!isRecord(meta)) return [];
  const causes: StatusCause[] = [];
  causes.push(
    ...mapCauses('metadata.labels', meta.labels, (k, v) => {
      const out: StatusCause[] = [];
      const kp = qualifiedNameProblem(k);
      if (kp) out.push({ field: 'metadata.labels', message: `Invalid value: ${JSON.stringify(k)}: ${kp}` });
      if (typeof v === 'string') {
        const vp = labelValueProblem(v);
        if (vp) out.push({ field: `metadata.labels`, message: `Invalid value: ${JSON.stringify(v)}: ${vp}` });
      }
      return out;
    }),
  );
  let annotationBytes = 0;
  causes.push(
    ...mapCauses('metadata.annotations', meta.annotations, (k, v) => {
      annotationBytes += Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
      const kp = qualifiedNameProblem(k.toLowerCase());
      return kp ? [{ field: 'metadata.annotations', message: `Invalid value: ${JSON.stringify(k)}: ${kp}` }] : [];
    }),
  );
  if (annotationBytes > TOTAL_ANNOTATION_BYTES)
    causes.push({ reason: 'FieldValueTooLong', field: 'metadata.annotations', message: `Too long: must have at most ${TOTAL_ANNOTATION_BYTES} bytes` });
  if (Array.isArray(meta.finalizers))
    meta.finalizers.forEach((f, i) => {
      const p = typeof f === 'string' ? qualifiedNameProblem(f) : undefined;
      if (p) causes.push({ field: `metadata.finalizers[${i}]`, message: `Invalid value: ${JSON.stringify(f)}: ${p}` });
    });
  return causes;
}
