// CSV as Go's encoding/csv reads it with its defaults (strict quoting, any number of fields per
// record), because that is what decides how kube-apiserver splits a --token-auth-file line.

export class CsvError extends Error {}

export interface CsvOptions {
  /** Lines starting with this character are skipped. */
  comment?: string;
}

export function parseCsv(text: string, opts: CsvOptions = {}): { line: number; fields: string[] }[] {
  const src = text.replace(/\r\n/g, '\n');
  const records: { line: number; fields: string[] }[] = [];
  let i = 0;
  let line = 1;
  while (i < src.length) {
    const startLine = line;
    if (src[i] === '\n') {
      i++;
      line++;
      continue;
    }
    if (opts.comment && src.startsWith(opts.comment, i)) {
      const nl = src.indexOf('\n', i);
      i = nl < 0 ? src.length : nl + 1;
      line++;
      continue;
    }
    const fields: string[] = [];
    for (;;) {
      let field = '';
      if (src[i] === '"') {
        const col = i;
        i++;
        for (;;) {
          if (i >= src.length) throw new CsvError(`line ${startLine}: extraneous or missing " in quoted-field`);
          const ch = src[i];
          if (ch === '"') {
            if (src[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            if (i < src.length && src[i] !== ',' && src[i] !== '\n')
              throw new CsvError(`line ${line}: extraneous or missing " in quoted-field (from column ${col + 1})`);
            break;
          }
          if (ch === '\n') line++;
          field += ch;
          i++;
        }
      } else {
        while (i < src.length && src[i] !== ',' && src[i] !== '\n') {
          if (src[i] === '"') throw new CsvError(`line ${line}: bare " in non-quoted-field`);
          field += src[i];
          i++;
        }
      }
      fields.push(field);
      if (i < src.length && src[i] === ',') {
        i++;
        continue;
      }
      if (i < src.length && src[i] === '\n') {
        i++;
        line++;
      }
      break;
    }
    records.push({ line: startLine, fields });
  }
  return records;
}
