// The main job (npm start) in its quick form (one epoch per stage): every file it promises, a
// summary whose numbers agree with the files, and onnxruntime-node agreeing on the accuracy.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const out = mkdtempSync(join(tmpdir(), 'edgeprune-main-job-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('trains, prunes three ways, fine-tunes, evaluates and writes out/', async () => {
  process.env.EDGEPRUNE_QUICK = '1';
  process.env.EDGEPRUNE_OUT = out;
  const { mainJob } = await import('../src/workflow/main-job.js');
  const log: string[] = [];
  const orig = console.log;
  console.log = (...a: unknown[]) => void log.push(a.join(' '));
  try {
    await mainJob();
  } finally {
    console.log = orig;
  }
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  const names = summary.variants.map((v: { name: string }) => v.name);
  expect(names).toEqual(['dense baseline', '50% unstructured, pruned', '50% unstructured, fine-tuned', '90% unstructured, pruned', '90% unstructured, fine-tuned', '50% channels, pruned', '50% channels, fine-tuned', '90% unstructured + int8']);
  const byName = Object.fromEntries(summary.variants.map((v: Record<string, unknown>) => [v.name, v]));
  // one epoch already learns the digits
  expect(byName['dense baseline'].accuracy).toBeGreaterThan(0.9);
  for (const v of summary.variants) {
    expect(readFileSync(join(out, v.onnxFile)).length).toBe(v.onnxBytes);
    expect(readFileSync(join(out, v.artifactFile)).length).toBe(v.artifactBytes);
    expect(Math.abs(v.ortAccuracy - v.accuracy)).toBeLessThanOrEqual(0.002); // a near-tie may flip
    expect(v.latencyMs).toBeGreaterThan(0);
  }
  // what each variant promises
  const nz = (n: string) => byName[n].nonZeroParams / byName['dense baseline'].nonZeroParams;
  expect(nz('50% unstructured, fine-tuned')).toBeLessThan(0.52);
  expect(nz('90% unstructured, fine-tuned')).toBeLessThan(0.12);
  expect(byName['50% channels, fine-tuned'].params).toBeLessThan(0.5 * byName['dense baseline'].params);
  expect(byName['90% unstructured, fine-tuned'].artifactBytes).toBeLessThan(0.2 * byName['dense baseline'].onnxBytes);
  expect(byName['90% unstructured + int8'].artifactBytes).toBeLessThan(0.6 * byName['90% unstructured, fine-tuned'].artifactBytes);
  expect(byName['90% unstructured, fine-tuned'].kernels.some((k: string) => k.includes('sparse'))).toBe(true);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  expect(html.match(/<svg /g)).toHaveLength(3);
  expect(existsSync(join(out, 'dense-baseline.onnx'))).toBe(true);
  expect(log.join('\n')).toMatch(/wrote .*summary\.json/);
}, 300_000);
