// src/onnx/utf8.ts: Node's Buffer path and the TextDecoder path (browsers, Deno, Workers) must
// decode every byte sequence an ONNX file can hold to the same string, invalid UTF-8 included.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { utf8 } from '../src/onnx/utf8.js';

const enc = new TextEncoder();
const reference = (b: Uint8Array) => new TextDecoder().decode(b);

const cases: [string, Uint8Array][] = [
  ['empty', new Uint8Array(0)],
  ['ASCII', enc.encode('conv2d_12.w_0')],
  ['two-, three- and four-byte characters', enc.encode('ñandú/卷积/Ж/🙂')],
  ['a NUL inside', enc.encode('a\u0000b')],
  ['a lone continuation byte', new Uint8Array([0x61, 0x80, 0x62])],
  ['a truncated 3-byte sequence at the end', new Uint8Array([0x61, 0xe4, 0xb8])],
  ['an overlong encoding', new Uint8Array([0xc0, 0xaf])],
  ['a UTF-16 surrogate encoded as UTF-8', new Uint8Array([0xed, 0xa0, 0x80])],
  ['0xff', new Uint8Array([0xff, 0x41])],
];

/** utf8() from a fresh copy of the module, with or without Node's Buffer visible. */
async function freshUtf8(hideBuffer: boolean): Promise<typeof utf8> {
  vi.resetModules();
  if (hideBuffer) vi.stubGlobal('Buffer', undefined);
  return (await import('../src/onnx/utf8.js')).utf8;
}

afterEach(() => vi.unstubAllGlobals());

describe('utf8', () => {
  it.each(cases)('%s: as TextDecoder decodes it (Node path)', (_name, bytes) => {
    expect(utf8(bytes)).toBe(reference(bytes));
  });

  it.each(cases)('%s: as TextDecoder decodes it (no Buffer: the web path)', async (_name, bytes) => {
    const webUtf8 = await freshUtf8(true);
    expect(webUtf8(bytes)).toBe(reference(bytes));
  });

  it('decodes a range of a larger buffer in both paths', async () => {
    const bytes = enc.encode('xx卷积yy');
    for (const f of [utf8, await freshUtf8(true)]) {
      expect(f(bytes, 2, 8)).toBe('卷积');
      expect(f(bytes, 0, 2)).toBe('xx');
      expect(f(bytes, 8)).toBe('yy');
      expect(f(bytes, 3, 3)).toBe('');
    }
  });

  it('reads shared memory in both paths', async () => {
    const bytes = new Uint8Array(new SharedArrayBuffer(8));
    bytes.set(enc.encode('relu_1'));
    for (const f of [utf8, await freshUtf8(true)]) expect(f(bytes, 0, 6)).toBe('relu_1');
  });
});
