import { describe, expect, it } from 'vitest';
import { loadKernels } from '../src/wasm/loader.js';
import { ArgumentError, OutOfMemoryError } from '../src/errors.js';

describe('Heap over wasm memory', () => {
  it('hands out 64-byte-aligned, non-overlapping blocks and reuses freed ones', async () => {
    const k = await loadKernels('simd');
    const a = k.heap.alloc(10);
    const b = k.heap.alloc(100);
    const c = k.heap.alloc(64);
    for (const p of [a, b, c]) expect(p % 64).toBe(0);
    expect(b).toBeGreaterThanOrEqual(a + 64);
    expect(c).toBeGreaterThanOrEqual(b + 128);
    k.heap.release(b);
    expect(k.heap.alloc(128)).toBe(b); // first fit takes the hole
    k.free(a, b, c);
    expect(k.heap.liveBytes).toBe(0);
    // everything coalesced back: one big block starts where the first did
    expect(k.heap.alloc(1 << 16)).toBe(a);
  });

  it('grows memory and keeps typed views valid after growth', async () => {
    const k = await loadKernels('simd');
    const p = k.upload(new Float32Array([1, 2, 3]));
    const before = k.f32.buffer.byteLength;
    const big = k.allocF32(4 << 20); // 16 MiB forces memory.grow, which detaches the old buffer
    expect(k.f32.buffer.byteLength).toBeGreaterThan(before);
    expect(Array.from(k.download(p, 3))).toEqual([1, 2, 3]);
    k.free(p, big);
  });

  it('rejects bad requests with typed errors', async () => {
    const k = await loadKernels('simd');
    expect(() => k.heap.alloc(-1)).toThrow(ArgumentError);
    expect(() => k.heap.alloc(1.5)).toThrow(ArgumentError);
    expect(() => k.heap.release(12345)).toThrow(/not a live block/);
    expect(() => k.heap.alloc(5 * 1024 ** 3)).toThrow(OutOfMemoryError);
    const p = k.allocF32(4);
    expect(() => k.write(p, new Float32Array(100))).toThrow(/holds 16 floats but 100 are needed/);
    k.free(p);
  });
});
