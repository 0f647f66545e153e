import { describe, expect, it } from 'vitest';
import { blobOid, chooseBlob, EXECUTABLE, presentText, REGULAR, SYMLINK, writesBackAsIs, type FileOrigin } from '../../../lib/git/file-origin.ts';

// The rule that decides a written file's bytes and mode from the text the API was shown.

const origin = (mode: string, bytes: Uint8Array): FileOrigin & { reads: number } => {
  const o = { mode, oid: blobOid(bytes), reads: 0, bytes: async () => (o.reads++, bytes) };
  return o;
};

describe('file origins', () => {
  it('knows which blobs the text gives back exactly', () => {
    expect(blobOid(Buffer.alloc(0))).toBe('e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
    const utf8 = Buffer.from('naïve\n', 'utf8');
    expect(writesBackAsIs(REGULAR, utf8, presentText(utf8))).toBe(true);
    // A replacement character that is really in the file is UTF-8 like any other.
    const literal = Buffer.from('\uFFFD\n', 'utf8');
    expect(writesBackAsIs(REGULAR, literal, presentText(literal))).toBe(true);
    const latin1 = Buffer.from('caf\xe9\n', 'latin1');
    expect(presentText(latin1)).toBe('caf\uFFFD\n');
    expect(writesBackAsIs(REGULAR, latin1, presentText(latin1))).toBe(false);
    expect(writesBackAsIs(EXECUTABLE, utf8, presentText(utf8))).toBe(false);
  });

  it('takes the bytes and mode of an origin whose text is unchanged, reading bytes only when the text differs from them', async () => {
    expect(await chooseBlob('new\n', [])).toEqual({ mode: REGULAR, bytes: Buffer.from('new\n') });

    const link = origin(SYMLINK, Buffer.from('bin/run.sh'));
    expect(await chooseBlob('bin/run.sh', [link])).toMatchObject({ mode: SYMLINK });
    expect(link.reads).toBe(0);
    expect(await chooseBlob('elsewhere', [link])).toEqual({ mode: REGULAR, bytes: Buffer.from('elsewhere') });

    const latin1 = Buffer.from('caf\xe9\n', 'latin1');
    const text = origin(REGULAR, latin1);
    const kept = await chooseBlob('caf\uFFFD\n', [origin(REGULAR, Buffer.from('other')), text]);
    expect(kept.mode).toBe(REGULAR);
    expect(Buffer.from(kept.bytes).equals(latin1)).toBe(true);

    const script = origin(EXECUTABLE, Buffer.from('#!/bin/sh\n'));
    expect(await chooseBlob('#!/bin/sh\necho\n', [script])).toEqual({ mode: EXECUTABLE, bytes: Buffer.from('#!/bin/sh\necho\n') });
  });
});
