import { describe, expect, it } from 'vitest';
import { NpyError } from '../src/errors.js';
import { NPY_MAX_ELEMENTS, readNpy, writeNpy, type NpyData, type NpyDtype } from '../src/io/npy.js';

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const hex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

/** A .npy file assembled by hand from the format spec: magic, version, header length, header, data. */
function npyFile(header: string, data: Uint8Array = new Uint8Array(0), version: 1 | 2 | 3 = 1): Uint8Array {
  const h = version === 3 ? new TextEncoder().encode(header) : latin1(header);
  const lenBytes = version === 1 ? 2 : 4;
  const out = new Uint8Array(8 + lenBytes + h.length + data.length);
  out.set(latin1('\x93NUMPY'), 0);
  out[6] = version;
  out[7] = 0;
  const v = new DataView(out.buffer);
  if (lenBytes === 2) v.setUint16(8, h.length, true);
  else v.setUint32(8, h.length, true);
  out.set(h, 8 + lenBytes);
  out.set(data, 8 + lenBytes + h.length);
  return out;
}

/** The header numpy writes for a dict that needs no growth padding: spaces, then '\n' at a 64-byte boundary. */
function paddedHeader(dict: string, prefixLen = 10): string {
  const padLen = 64 - ((prefixLen + dict.length + 1) % 64);
  return dict + ' '.repeat(padLen) + '\n';
}

function bytesOf(a: NpyData): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function expectNpyError(fn: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an NpyError').toBeInstanceOf(NpyError);
  expect((caught as NpyError).code).toBe('E_NPY');
  expect((caught as NpyError).message).toMatch(pattern);
}

const samples: Record<NpyDtype, (n: number) => NpyData> = {
  float32: (n) => Float32Array.from({ length: n }, (_, i) => i * 0.25 - 1.5),
  float64: (n) => Float64Array.from({ length: n }, (_, i) => Math.PI * (i - 2) + 1e-300),
  int64: (n) => BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * -123456789012345n + 9007199254740993n),
  int32: (n) => Int32Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1) * (2 ** 31 - 1 - i)),
  uint8: (n) => Uint8Array.from({ length: n }, (_, i) => (i * 37) & 255),
  int8: (n) => Int8Array.from({ length: n }, (_, i) => ((i * 37) & 255) - 128),
  bool: (n) => Uint8Array.from({ length: n }, (_, i) => i % 3 === 0 ? 1 : 0),
};

describe('npy round trips', () => {
  const shapes: number[][] = [[], [0], [7], [2, 3], [2, 0, 4], [1, 2, 1, 3, 1]];
  for (const dtype of Object.keys(samples) as NpyDtype[]) {
    for (const dims of shapes) {
      it(`${dtype} shape (${dims.join(', ')})`, () => {
        const n = dims.reduce((a, b) => a * b, 1);
        const data = samples[dtype](n);
        const file = writeNpy(dtype, dims, data);
        const dataStart = file.length - data.byteLength;
        expect(dataStart % 64).toBe(0);
        expect(file[dataStart - 1]).toBe(0x0a);
        const back = readNpy(file);
        expect(back.dtype).toBe(dtype);
        expect(back.dims).toEqual(dims);
        expect(back.data.constructor).toBe(data.constructor);
        expect(Array.from(back.data as ArrayLike<number | bigint>)).toEqual(Array.from(data as ArrayLike<number | bigint>));
      });
    }
  }

  it('reads from a view at an odd offset inside a larger buffer (Node Buffer pools)', () => {
    const file = writeNpy('float64', [3], new Float64Array([1, -2, 3.5]));
    const big = new Uint8Array(file.length + 3);
    big.set(file, 3);
    const back = readNpy(big.subarray(3));
    expect(Array.from(back.data as Float64Array)).toEqual([1, -2, 3.5]);
  });

  it('reads from a Node Buffer (whose slice() is a view into a shared pool)', () => {
    const file = Buffer.from(writeNpy('float32', [2], new Float32Array([1.5, -2])));
    const back = readNpy(file);
    expect(back.data.buffer.byteLength).toBe(8);
    expect(Array.from(back.data as Float32Array)).toEqual([1.5, -2]);
  });

  it('writes from a subarray view (only the viewed elements)', () => {
    const all = new Float32Array([9, 1, 2, 3, 9]);
    const back = readNpy(writeNpy('float32', [3], all.subarray(1, 4)));
    expect(Array.from(back.data as Float32Array)).toEqual([1, 2, 3]);
  });
});

describe('npy bytes match numpy', () => {
  it('float32 (2, 3): header built by hand from the format spec', () => {
    const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    // numpy >= 1.24 leaves 21 - len('2') spaces after the dict so the first axis can grow in place
    const header = paddedHeader(dict + ' '.repeat(20));
    const data = new Float32Array([0, 0.25, 0.5, 0.75, 1, 1.25]);
    const expected = npyFile(header, bytesOf(data));
    expect(expected.length).toBe(128 + 24);
    expect(Buffer.from(writeNpy('float32', [2, 3], data))).toEqual(Buffer.from(expected));
  });

  // np.save(io.BytesIO(), a).getvalue().hex() with numpy 2.4.6
  const fixtures: { name: string; dtype: NpyDtype; dims: number[]; data: NpyData; hex: string }[] = [
    {
      name: 'np.arange(6, dtype=np.float32).reshape(2, 3) / 4',
      dtype: 'float32', dims: [2, 3], data: new Float32Array([0, 0.25, 0.5, 0.75, 1, 1.25]),
      hex: '934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2033292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a000000000000803e0000003f0000403f0000803f0000a03f',
    },
    {
      name: 'np.array(-1.5) (scalar float64)',
      dtype: 'float64', dims: [], data: new Float64Array([-1.5]),
      hex: '934e554d5059010076007b276465736372273a20273c6638272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028292c207d20202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a000000000000f8bf',
    },
    {
      name: 'np.zeros((0, 4), np.int64)',
      dtype: 'int64', dims: [0, 4], data: new BigInt64Array(0),
      hex: '934e554d5059010076007b276465736372273a20273c6938272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028302c2034292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a',
    },
    {
      name: 'np.array([True, False, True])',
      dtype: 'bool', dims: [3], data: new Uint8Array([1, 0, 1]),
      hex: '934e554d5059010076007b276465736372273a20277c6231272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028332c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a010001',
    },
    {
      name: 'np.arange(-3, 3, dtype=np.int8).reshape(1, 2, 1, 3, 1)',
      dtype: 'int8', dims: [1, 2, 1, 3, 1], data: new Int8Array([-3, -2, -1, 0, 1, 2]),
      hex: '934e554d5059010076007b276465736372273a20277c6931272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028312c20322c20312c20332c2031292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200afdfeff000102',
    },
    {
      name: 'np.zeros((1,) * 18, np.float32): the growth spaces push the header to 192 bytes',
      dtype: 'float32', dims: new Array<number>(18).fill(1), data: new Float32Array(1),
      hex: '934e554d50590100b6007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028312c20312c20312c20312c20312c20312c20312c20312c20312c20312c20312c20312c20312c20312c20312c20312c20312c2031292c207d20202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a00000000',
    },
  ];
  for (const f of fixtures) {
    it(f.name, () => {
      expect(Buffer.from(writeNpy(f.dtype, f.dims, f.data)).toString('hex')).toBe(f.hex);
      const back = readNpy(hex(f.hex));
      expect(back.dtype).toBe(f.dtype);
      expect(back.dims).toEqual(f.dims);
      expect(bytesOf(back.data)).toEqual(bytesOf(f.data));
    });
  }

  it('switches to version 2.0 when the header exceeds 65535 bytes, as numpy does', () => {
    const dims = new Array<number>(25000).fill(1);
    const file = writeNpy('float32', dims, new Float32Array([7]));
    expect(Array.from(file.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]);
    const headerLen = new DataView(file.buffer).getUint32(8, true);
    // numpy 2.4.6 (_write_array_header with a (1,) * 25000 shape) writes a 75124-byte header
    expect(headerLen).toBe(75124);
    expect((12 + headerLen) % 64).toBe(0);
    expect(file.length).toBe(12 + headerLen + 4);
    const back = readNpy(file);
    expect(back.dims.length).toBe(25000);
    expect(Array.from(back.data as Float32Array)).toEqual([7]);
  });
});

describe('npy headers written by other tools', () => {
  const f4 = bytesOf(new Float32Array([1, 2, 3, 4, 5, 6]));
  const cases: [string, string][] = [
    ['no spaces, no trailing comma', "{'descr':'<f4','fortran_order':False,'shape':(2,3)}"],
    ['double quotes and extra spaces', '{ "descr" : "<f4" ,  "fortran_order" : False , "shape" : ( 2 , 3 , ) , }'],
    ['keys in another order, tabs and newlines', "{\t'shape': (2, 3),\n 'fortran_order': False,\n 'descr': '<f4'\n}\n"],
    ['Python 2 longs', "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }"],
    ['a list for the shape', "{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}"],
    ['native byte order', "{'descr': '=f4', 'fortran_order': False, 'shape': (2, 3), }"],
    ['an extra key', "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'note': None}"],
    ['no padding at all', "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}"],
  ];
  for (const [name, header] of cases) {
    it(name, () => {
      const back = readNpy(npyFile(header, f4));
      expect(back.dtype).toBe('float32');
      expect(back.dims).toEqual([2, 3]);
      expect(Array.from(back.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    });
  }

  it('versions 2.0 and 3.0 (UTF-8 header)', () => {
    const header = paddedHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", 12);
    for (const version of [2, 3] as const) {
      const back = readNpy(npyFile(header, f4, version));
      expect(back.dims).toEqual([6]);
      expect(Array.from(back.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });

  it('big-endian data is byte-swapped (np.arange(6, dtype=">f4").reshape(2, 3), written by numpy)', () => {
    const back = readNpy(hex('934e554d5059010076007b276465736372273a20273e6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2033292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a000000003f80000040000000404000004080000040a00000'));
    expect(back.dtype).toBe('float32');
    expect(back.dims).toEqual([2, 3]);
    expect(Array.from(back.data as Float32Array)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('big-endian for every multi-byte dtype', () => {
    const be = (descr: string, bytes: number[]) => readNpy(npyFile(`{'descr': '${descr}', 'fortran_order': False, 'shape': (1,), }`, new Uint8Array(bytes))).data[0];
    expect(be('>f8', [0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18])).toBe(3.141592653589793);
    expect(be('>i8', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe])).toBe(-2n);
    expect(be('>i4', [0x00, 0x01, 0x02, 0x03])).toBe(0x010203);
    expect(be('>i1', [0xff])).toBe(-1);
    expect(be('>u1', [0xff])).toBe(255);
  });

  it('Fortran order is fine when the layout is the same as C order (at most one axis > 1)', () => {
    const back = readNpy(npyFile("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 6), }", f4));
    expect(back.dims).toEqual([1, 6]);
  });
});

describe('npy errors (always NpyError, checked before allocating)', () => {
  const good = writeNpy('float32', [2, 3], new Float32Array(6));

  it('bad magic', () => {
    expectNpyError(() => readNpy(latin1('PK\x03\x04 this is a zip')), /bad magic.*np\.save/);
    expectNpyError(() => readNpy(latin1('\x93NUMPX\x01\x00')), /bad magic/);
  });

  it('truncation at every offset of header and data', () => {
    for (let n = 0; n < good.length; n++) {
      expectNpyError(() => readNpy(good.subarray(0, n)), /truncated/);
    }
    const big = writeNpy('int64', [3], new BigInt64Array(3));
    for (const n of [0, 3, 6, 7, 8, 9, 10, 50, 127, 128, 129, 135, 136, 151]) {
      expectNpyError(() => readNpy(big.subarray(0, n)), /truncated/);
    }
    const v2 = npyFile(paddedHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", 12), new Uint8Array(24), 2);
    for (const n of [8, 9, 10, 11, 12, 40, 63, 64, 70, 87]) {
      expectNpyError(() => readNpy(v2.subarray(0, n)), /truncated/);
    }
  });

  it('trailing bytes after the data', () => {
    const longer = new Uint8Array(good.length + 4);
    longer.set(good);
    expectNpyError(() => readNpy(longer), /4 bytes after the data.*more than one array/);
  });

  it('unsupported version', () => {
    const f = good.slice();
    f[6] = 4;
    expectNpyError(() => readNpy(f), /version 4\.0.*1\.0, 2\.0 and 3\.0/);
  });

  it('unsupported dtypes name the supported ones', () => {
    for (const descr of ['<f2', '<u4', '<c8', 'O', '<U5', '|S3', '<M8[ns]']) {
      expectNpyError(() => readNpy(npyFile(`{'descr': '${descr}', 'fortran_order': False, 'shape': (1,), }`, new Uint8Array(8))), /unsupported dtype.*'<f4' \(float32\).*'\|b1' \(bool\)/);
    }
    expectNpyError(() => readNpy(npyFile("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8))), /structured.*'<f4'/);
  });

  it('Fortran order says to use np.ascontiguousarray', () => {
    expectNpyError(() => readNpy(npyFile("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", new Uint8Array(24))), /Fortran order.*np\.ascontiguousarray/);
  });

  it('malformed headers', () => {
    const bad = [
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)",
      "{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)} junk",
      "{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': __import__('os')}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2.5, 3)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (0x2, 3)}",
      "{descr: '<f4'}",
      "['descr', '<f4']",
      '',
    ];
    for (const h of bad) expectNpyError(() => readNpy(npyFile(h, new Uint8Array(24))), /header/);
  });

  it('missing keys and wrong value types', () => {
    expectNpyError(() => readNpy(npyFile("{'descr': '<f4', 'shape': (6,)}", new Uint8Array(24))), /no 'fortran_order' key/);
    expectNpyError(() => readNpy(npyFile("{'descr': '<f4', 'fortran_order': 0, 'shape': (6,)}", new Uint8Array(24))), /fortran_order/);
    expectNpyError(() => readNpy(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': 6}", new Uint8Array(24))), /shape must be a tuple/);
    expectNpyError(() => readNpy(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 6)}", new Uint8Array(24))), /non-negative/);
    expectNpyError(() => readNpy(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", new Uint8Array(24))), /too large/);
  });

  it('invalid UTF-8 in a 3.0 header', () => {
    const f = npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", new Uint8Array(24), 3);
    f[15] = 0xff;
    expectNpyError(() => readNpy(f), /UTF-8/);
  });

  it('shape product overflow is refused before any allocation', () => {
    const huge = [
      '(65536, 65536)',
      '(2147483648,)',
      '(9007199254740991, 9007199254740991, 9007199254740991)',
      `(${new Array(64).fill(2).join(', ')})`,
    ];
    for (const s of huge) {
      expectNpyError(() => readNpy(npyFile(`{'descr': '<f8', 'fortran_order': False, 'shape': ${s}, }`, new Uint8Array(16))), /more than 2147483647 \(2\^31 - 1\) elements/);
    }
    // a zero axis makes the array empty, whatever the others say
    const empty = readNpy(npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 9007199254740991), }"));
    expect(empty.data.length).toBe(0);
    expect(NPY_MAX_ELEMENTS).toBe(2 ** 31 - 1);
  });

  it('writeNpy: dims/data mismatch, bad dims, wrong array type, unknown dtype', () => {
    expectNpyError(() => writeNpy('float32', [2, 3], new Float32Array(5)), /\(2, 3\) holds 6 elements but the data has 5/);
    expectNpyError(() => writeNpy('float32', [], new Float32Array(0)), /\(\) holds 1 elements but the data has 0/);
    expectNpyError(() => writeNpy('float32', [-1], new Float32Array(0)), /non-negative integers/);
    expectNpyError(() => writeNpy('float32', [1.5], new Float32Array(0)), /non-negative integers/);
    expectNpyError(() => writeNpy('float32', [2], new Float64Array(2)), /float32 data must be a Float32Array, got Float64Array/);
    expectNpyError(() => writeNpy('int64', [2], new Int32Array(2)), /BigInt64Array/);
    expectNpyError(() => writeNpy('float16' as NpyDtype, [2], new Float32Array(2)), /unsupported dtype "float16".*float32/);
    // the data passed first: named, never printed (a 784-value array made a 724 kB message)
    const big = new Float32Array(100_000).fill(0.25);
    expectNpyError(() => writeNpy(big as unknown as NpyDtype, [100_000], big), /^unsupported dtype a Float32Array \(the data\?\); writeNpy takes \(dtype, dims, data\)/);
    try {
      writeNpy(big as unknown as NpyDtype, [100_000], big);
    } catch (e) {
      expect((e as Error).message.length).toBeLessThan(300);
    }
    expectNpyError(() => writeNpy('float32', [65536, 65536], new Float32Array(0)), /2\^31 - 1/);
  });
});
