// out/report.html of the main job: the comparison table and inline SVG plots (accuracy against
// sparsity, size on disk, latency), one self-contained page.
import { htmlPage } from '../report/html.js';
import { barChart, lineChart } from '../report/svg.js';

export interface VariantResult {
  name: string;
  stage: 'trained' | 'pruned' | 'fine-tuned';
  /** Share of the pruned layers' weights (or channels) removed. */
  sparsity: number;
  accuracy: number;
  /** The ONNX file's accuracy under onnxruntime-node, when it was available. */
  ortAccuracy?: number;
  params: number;
  nonZeroParams: number;
  onnxFile: string;
  onnxBytes: number;
  artifactFile: string;
  artifactBytes: number;
  latencyMs: number;
  /** The kernel of each layer with weights. */
  kernels: string[];
}

const pct = (v: number | undefined) => (v === undefined ? '-' : `${(100 * v).toFixed(2)}%`);

export function writeReport(settings: Record<string, unknown>, rows: VariantResult[]): string {
  const finals = rows.filter((r) => r.stage !== 'pruned');
  const family = (r: VariantResult) => (r.name.includes('channels') ? 'structured (channels)' : 'unstructured');
  const series = ['unstructured', 'structured (channels)'].map((name) => ({
    name,
    points: finals.filter((r) => r.stage === 'trained' || (family(r) === name && !r.name.includes('int8'))).map((r) => ({ x: 100 * r.sparsity, y: 100 * r.accuracy, label: r.stage === 'trained' ? 'dense' : undefined })),
  }));
  series.push({ name: 'before fine-tuning', points: rows.filter((r) => r.stage === 'pruned').map((r) => ({ x: 100 * r.sparsity, y: 100 * r.accuracy, label: r.name.includes('channels') ? 'channels' : undefined })), line: false } as (typeof series)[number] & { line: boolean });
  const acc = lineChart(series, { title: 'Test accuracy against sparsity', xLabel: 'weights (or channels) removed, %', yLabel: 'accuracy, %', xFormat: (v) => `${v}` });
  const size = barChart(finals.flatMap((r) => [{ label: `${r.name} .onnx`, value: r.onnxBytes / 1024 }, { label: `${r.name} .epm`, value: r.artifactBytes / 1024 }]), { title: 'Size on disk', unit: 'kB', width: 640, format: (v) => v.toFixed(1) });
  const latency = barChart(finals.map((r) => ({ label: r.name, value: r.latencyMs })), { title: 'Median latency per inference (batch 1)', unit: 'ms', width: 640, format: (v) => v.toFixed(3) });
  return htmlPage('edgeprune: train → prune → fine-tune → evaluate on MNIST', [
    { kind: 'text', text: `Settings: ${Object.entries(settings).map(([k, v]) => `${k} ${v}`).join(', ')}.` },
    { kind: 'table', rows: [['model', 'accuracy', 'onnxruntime', 'params', 'non-zero', 'ONNX bytes', '.epm bytes', 'latency ms'], ...rows.map((r) => [r.name, pct(r.accuracy), pct(r.ortAccuracy), String(r.params), String(r.nonZeroParams), String(r.onnxBytes), String(r.artifactBytes), r.latencyMs.toFixed(3)])] },
    { kind: 'svg', svg: acc },
    { kind: 'svg', svg: size },
    { kind: 'svg', svg: latency },
  ]);
}
