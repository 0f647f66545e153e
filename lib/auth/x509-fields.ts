import type { X509Certificate } from 'node:crypto';

// Node renders a certificate's subject as an escaped display string ("CN=a\, b\nO=x + OU=y") that
// cannot be split back reliably, and Node 20 has no Date accessors for validity; so the few fields
// authentication needs are read straight from the DER encoding.

interface Tlv {
  tag: number;
  /** Offset of the first content byte. */
  start: number;
  /** Offset just past the content. */
  end: number;
}

function readTlv(buf: Buffer, at: number): Tlv {
  if (at + 2 > buf.length) throw new Error('truncated DER');
  const tag = buf[at];
  if ((tag & 0x1f) === 0x1f) throw new Error('unsupported DER tag');
  let len = buf[at + 1];
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > buf.length) throw new Error('bad DER length');
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + buf[start + k];
    start += n;
  }
  const end = start + len;
  if (end > buf.length) throw new Error('truncated DER');
  return { tag, start, end };
}

function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const t = readTlv(buf, at);
    out.push(t);
    at = t.end;
  }
  return out;
}

function decodeOid(bytes: Buffer): string {
  const arcs: number[] = [];
  let v = 0;
  for (const b of bytes) {
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) {
        const first = v < 80 ? Math.floor(v / 40) : 2;
        arcs.push(first, v - first * 40);
      } else arcs.push(v);
      v = 0;
    }
  }
  return arcs.join('.');
}

function decodeString(tag: number, bytes: Buffer): string {
  switch (tag) {
    case 0x1e: {
      // BMPString is UTF-16 big-endian.
      const swapped = Buffer.from(bytes);
      swapped.swap16();
      return swapped.toString('utf16le');
    }
    case 0x1c: {
      let s = '';
      for (let k = 0; k + 3 < bytes.length; k += 4) s += String.fromCodePoint(bytes.readUInt32BE(k));
      return s;
    }
    case 0x14:
      return bytes.toString('latin1');
    default:
      return bytes.toString('utf8');
  }
}

function decodeTime(tag: number, text: string): Date {
  let m: RegExpExecArray | null;
  if (tag === 0x17 && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text))) {
    const yy = Number(m[1]);
    // RFC 5280: two-digit years 50-99 are 19xx.
    const year = yy >= 50 ? 1900 + yy : 2000 + yy;
    return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  }
  if (tag === 0x18 && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)))
    return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  throw new Error(`unsupported certificate time ${JSON.stringify(text)}`);
}

export interface NameAttribute {
  oid: string;
  value: string;
}

export interface CertificateFields {
  /** Subject attributes in encoding order, multi-valued RDNs flattened. */
  subject: NameAttribute[];
  notBefore: Date;
  notAfter: Date;
}

export const OID_COMMON_NAME = '2.5.4.3';
export const OID_ORGANIZATION = '2.5.4.10';

export function certificateFields(cert: X509Certificate): CertificateFields {
  const der = cert.raw;
  const certSeq = readTlv(der, 0);
  const tbs = children(der, certSeq)[0];
  let fields = children(der, tbs);
  // The version is an explicit [0] that v1 certificates leave out.
  if (fields[0]?.tag === 0xa0) fields = fields.slice(1);
  const [, , , validity, subject] = fields;
  if (!validity || !subject) throw new Error('malformed certificate');
  const [nb, na] = children(der, validity);
  const time = (t: Tlv) => decodeTime(t.tag, der.subarray(t.start, t.end).toString('latin1'));
  const attrs: NameAttribute[] = [];
  for (const rdn of children(der, subject))
    for (const atv of children(der, rdn)) {
      const [oid, value] = children(der, atv);
      if (!oid || !value || oid.tag !== 0x06) continue;
      attrs.push({ oid: decodeOid(der.subarray(oid.start, oid.end)), value: decodeString(value.tag, der.subarray(value.start, value.end)) });
    }
  return { subject: attrs, notBefore: time(nb), notAfter: time(na) };
}

/** CN and O as Go's pkix.Name reads them: the last CN, every O in order. */
export function subjectIdentity(fields: CertificateFields): { commonName: string; organizations: string[] } {
  let commonName = '';
  const organizations: string[] = [];
  for (const a of fields.subject) {
    if (a.oid === OID_COMMON_NAME) commonName = a.value;
    else if (a.oid === OID_ORGANIZATION) organizations.push(a.value);
  }
  return { commonName, organizations };
}
