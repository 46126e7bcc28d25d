// Pretrained models shipped in the npm package openwakeword-js (PyTorch MLPs with LayerNorm
// written out as ReduceMean/Sub/Pow/Sqrt/Div), on random inputs of the declared shape,
// compared with onnxruntime-node, and compiled for edgeprune/runtime against the session. A
// second variant exposes every intermediate float value as a graph output, so each node's result
// is checked (not only the saturating final Sigmoid).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import { InferenceSession } from '../../src/runtime/session.js';
import { compareRun, compiledAgrees, rand, numel } from './harness.js';

const { onnx } = onnxProto;
// the package's exports map hides its files from require.resolve: read them from node_modules
const modelsDir = join(process.cwd(), 'node_modules', 'openwakeword-js', 'models');

/** The model with every float node output (not already an output) added as a graph output. */
function exposeIntermediates(bytes: Uint8Array): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  const g = m.graph!;
  const declared = new Set((g.output ?? []).map((o) => o.name));
  const intTypes = new Set(['Shape', 'Gather', 'Unsqueeze', 'Concat', 'Constant', 'Cast', 'ConstantOfShape']);
  for (const n of g.node ?? []) {
    if (intTypes.has(n.opType ?? '')) continue;
    for (const o of n.output ?? []) {
      if (!o || declared.has(o)) continue;
      g.output!.push(onnx.ValueInfoProto.create({ name: o, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } }));
      declared.add(o);
    }
  }
  return onnx.ModelProto.encode(m).finish();
}

function declaredInput(bytes: Uint8Array): { name: string; dims: number[] } {
  const g = onnx.ModelProto.decode(bytes).graph!;
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  const inp = (g.input ?? []).find((i) => !inits.has(i.name))!;
  const dims = inp.type!.tensorType!.shape!.dim!.map((d) => Number(d.dimValue ?? 1));
  return { name: inp.name!, dims };
}

describe('openwakeword-js pretrained models', () => {
  for (const file of ['hello_deepa.onnx', 'hello_deepa_old.onnx', 'namaste_deepa.onnx']) {
    it(`${file}: random inputs, final output`, async () => {
      const bytes = new Uint8Array(readFileSync(join(modelsDir, file)));
      const { name, dims } = declaredInput(bytes);
      const s = await InferenceSession.create(bytes);
      expect([...s.inputNames]).toEqual([name]);
      for (const [lo, hi] of [[-1, 1], [-4, 4], [0, 1]]) {
        await compareRun(s, bytes, { [name]: { data: rand(numel(dims), lo, hi), dims } }, { what: `${file} range [${lo}, ${hi}]` });
      }
      const ops = new Set(s.info().nodes.map((n) => n.op));
      expect(ops.size).toBeGreaterThan(2);
      // compiled for edgeprune/runtime: the session's outputs bit for bit
      expect(await compiledAgrees(s, bytes, { [name]: { data: rand(numel(dims), -1, 1), dims } }, {})).toBe(true);
    });

    it(`${file}: every intermediate value`, async () => {
      const bytes = exposeIntermediates(new Uint8Array(readFileSync(join(modelsDir, file))));
      const { name, dims } = declaredInput(bytes);
      const s = await InferenceSession.create(bytes);
      expect(s.outputNames.length).toBeGreaterThan(5);
      await compareRun(s, bytes, { [name]: { data: rand(numel(dims), -2, 2), dims } }, { what: `${file} intermediates` });
    });
  }
});
