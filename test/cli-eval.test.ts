// `edgeprune eval`: accuracy counted against hand-made labels, size, parameters and latency, and
// one-line errors for data that does not fit the model.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeNpy } from '../src/io/npy.js';
import { cli } from './util/cli.js';
import { buildModel } from './util/onnx.js';

let dir: string;
const path = (f: string) => join(dir, f);

// logits = x · I (+0): the predicted class is the argmax of the sample itself
function identityClassifier(batch: number | string): Uint8Array {
  return buildModel({
    nodes: [{ op: 'Gemm', inputs: ['x', 'w'], outputs: ['logits'] }],
    inputs: [{ name: 'x', dims: [batch, 3] }],
    outputs: ['logits'],
    initializers: [{ name: 'w', dims: [3, 3], data: new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]) }],
  });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'edgeprune-cli-eval-'));
  writeFileSync(path('free.onnx'), identityClassifier('N'));
  writeFileSync(path('one.onnx'), identityClassifier(1));
  // 70 samples: the argmax is i % 3; labels right for 52 of them
  const n = 70;
  const x = new Float32Array(n * 3);
  const y = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    x[i * 3 + (i % 3)] = 1 + i / 100;
    y[i] = BigInt(i < 52 ? i % 3 : (i + 1) % 3);
  }
  writeFileSync(path('x.npy'), writeNpy('float32', [n, 3], x));
  writeFileSync(path('y.npy'), writeNpy('int64', [n], y));
  writeFileSync(path('y-short.npy'), writeNpy('int64', [n - 1], y.slice(1)));
  writeFileSync(path('y-big.npy'), writeNpy('int64', [n], y.map((v, i) => (i === 9 ? 7n : v))));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('edgeprune eval', () => {
  it.each(['free.onnx', 'one.onnx'])('counts the correct predictions of %s (symbolic batch in batches of 16; fixed batch 1)', async (model) => {
    const r = await cli(['eval', path(model), '--data', path('x.npy'), '--labels', path('y.npy'), '--batch', '16', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.correct).toBe(52);
    expect(j.samples).toBe(70);
    expect(j.accuracy).toBeCloseTo(52 / 70, 12);
    expect(j.params).toBe(9);
    expect(j.latencyMs).toBeGreaterThan(0);
    expect(j.latencyBatch).toBe(1);
    const text = await cli(['eval', path(model), '--data', path('x.npy'), '--labels', path('y.npy')]);
    expect(text.stdout).toMatch(/accuracy\s+74\.29% \(52 of 70\)/);
    expect(text.stdout).toMatch(/latency\s+\d+\.\d{3} ms median per inference \(batch 1/);
  });

  it('says which data does not fit, in one line', async () => {
    const short = await cli(['eval', path('free.onnx'), '--data', path('x.npy'), '--labels', path('y-short.npy')]);
    expect(short.code).not.toBe(0);
    expect(short.stderr).toBe(`edgeprune: X has 70 samples but y has 69 labels; they must be the same length (X is --data ${path('x.npy')}, y is --labels ${path('y-short.npy')})\n`);
    const floats = await cli(['eval', path('free.onnx'), '--data', path('x.npy'), '--labels', path('x.npy')]);
    expect(floats.stderr).toMatch(/^edgeprune: y is float32; it must hold integer class indices .*\(X is --data .*x\.npy, y is --labels .*x\.npy\)\n$/);
    const big = await cli(['eval', path('free.onnx'), '--data', path('x.npy'), '--labels', path('y-big.npy')]);
    expect(big.code).not.toBe(0);
    expect(big.stderr).toMatch(/gives 3 scores per sample but label 7 \(sample 9\) is outside 0\.\.2/);
    expect(big.stderr.trim().split('\n')).toHaveLength(1);
  });
});
