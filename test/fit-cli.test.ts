// `edgeprune fit` end to end: writes a model within the budget (.epm and .onnx; the ONNX file
// loads in onnxruntime-node with edgeprune's outputs), prints the per-layer table, writes the HTML
// report, shows progress on stderr; budgets it cannot meet and malformed commands are one line.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeNpy } from '../src/io/npy.js';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { images, SAMPLE, smallCnn } from './fit-model.js';
import { expectClose } from './util/close.js';
import { runOrt } from './util/onnx.js';
import { cli } from './util/cli.js';

let dir: string;
let model: string;
let calib: string;
let data: string;
let labels: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'edgeprune-cli-fit-'));
  writeFileSync((model = join(dir, 'net.onnx')), smallCnn({ seed: 2 }));
  writeFileSync((calib = join(dir, 'calib.npy')), writeNpy('float32', [200, ...SAMPLE], images(200, 3)));
  writeFileSync((data = join(dir, 'x.npy')), writeNpy('float64', [96, ...SAMPLE], Float64Array.from(images(96, 4))));
  writeFileSync((labels = join(dir, 'y.npy')), writeNpy('int64', [96], BigInt64Array.from({ length: 96 }, (_, i) => BigInt(i % 10))));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));


describe('edgeprune fit', () => {
  it('writes an .epm within --max-size, prints the per-layer table and writes the HTML report', async () => {
    const out = join(dir, 'fitted.epm');
    const report = join(dir, 'report.html');
    const r = await cli(['fit', model, '--max-size', '6kB', '--calib', calib, '--out', out, '--report', report]);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(out).size).toBeLessThanOrEqual(6000);
    expect(r.stdout).toContain(`(${statSync(out).size.toLocaleString('en-US')} bytes`);
    expect(r.stdout).toMatch(/file bytes \(\.epm\)\s+6,000 bytes\s+[\d,]+ bytes\s+[\d,]+ bytes\s+yes/);
    expect(r.stdout).toMatch(/layer\s+op\s+out ch\s+in ch\s+sparsity\s+storage\s+bytes\s+FLOPs\s+sensitivity/);
    for (const layer of ['n0', 'n2', 'n6']) expect(r.stdout).toMatch(new RegExp(`^${layer}\\s+(Conv|Gemm)\\s`, 'm'));
    expect(r.stdout).toMatch(/same plan, magnitude only/);
    // progress went to stderr, not stdout
    expect(r.stderr).toMatch(/^fit \[[\d.]+s\] sensitivity \d+\/\d+/m);
    expect(r.stdout).not.toMatch(/sensitivity \d+\/\d+/);
    const html = readFileSync(report, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(3);
    expect(html).toContain('Frontier');
    expect(html).toContain('chosen');
    // it runs
    const s = await InferenceSession.create(readFileSync(out));
    const y = await s.run({ x: new Tensor('float32', images(1, 5), [1, ...SAMPLE]) });
    expect(y.y.dims).toEqual([1, 10]);
    await s.release();
  });

  it('writes ONNX for .onnx: smaller by removed channels, and onnxruntime-node computes what edgeprune computes', async () => {
    const out = join(dir, 'fitted.onnx');
    const budget = Math.floor(statSync(model).size * 0.6);
    const r = await cli(['fit', model, '--max-size', `${budget}B`, '--calib', calib, '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const bytes = new Uint8Array(readFileSync(out));
    expect(bytes.length).toBeLessThanOrEqual(budget);
    const x = images(4, 8);
    const ort = await runOrt(bytes, { x: { data: x, dims: [4, ...SAMPLE] } });
    const s = await InferenceSession.create(bytes, { freeDimensionOverrides: { N: 4 } });
    const ours = (await s.run({ x: new Tensor('float32', x, [4, ...SAMPLE]) })).y;
    await s.release();
    expect(ort.y.dims).toEqual([4, 10]);
    expectClose(ours.data, ort.y.data, 'fitted onnx');
  });

  it('calibrates from labelled --data, fine-tunes and reports accuracy, with --json', async () => {
    const out = join(dir, 'tuned.epm');
    const r = await cli(['fit', model, '--max-size', '8kB', '--data', data, '--labels', labels, '--finetune-epochs', '1', '--out', out, '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.measured.size).toBe(statSync(out).size);
    expect(j.measured.size).toBeLessThanOrEqual(8000);
    expect(typeof j.accuracy.dense).toBe('number');
    expect(typeof j.accuracy.beforeFinetune).toBe('number');
    expect(typeof j.fidelity.dense.loss).toBe('number');
    expect(j.layers).toHaveLength(3);
  });

  it('says the smallest reachable size when --max-size cannot be met (exit 1, one line)', async () => {
    const r = await cli(['fit', model, '--max-size', '100B', '--calib', calib, '--out', join(dir, 'never.epm'), '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^edgeprune: cannot meet the budget: the smallest file size reachable is [\d,]+ bytes, over maxSize \(--max-size\) 100 bytes/);
    // what was allowed, worded as the ratios are (a share removed)
    expect(r.stderr).toMatch(/\(with 90% of every channel group removed, every layer 90% sparse, int8 weights\); raise the budget or allow more pruning\n$/);
  });

  it('refuses a command without budgets or calibration (exit 2) and bad units (exit 1)', async () => {
    const out = join(dir, 'bad.epm');
    const none = await cli(['fit', model, '--calib', calib, '--out', out]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/at least one budget/);
    const noCalib = await cli(['fit', model, '--max-size', '10kB', '--out', out]);
    expect(noCalib.code).toBe(2);
    expect(noCalib.stderr).toMatch(/--calib/);
    const bits = await cli(['fit', model, '--max-size', '10kb', '--calib', calib, '--out', out]);
    expect(bits.code).toBe(1);
    expect(bits.stderr).toMatch(/lower-case b means bits/);
    const shape = await cli(['fit', model, '--max-size', '10kB', '--calib', labels, '--out', out]);
    expect(shape.code).toBe(1);
    expect(shape.stderr).toMatch(/int64/);
  });
});
