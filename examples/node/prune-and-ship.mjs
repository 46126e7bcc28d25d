// Prune an ONNX model and ship it: prune with 'edgeprune', write the compact .epm artifact, load it
// back with 'edgeprune/runtime/dynamic' (the inference-only bundle an app ships: no ONNX parser, no
// pruning) and print what it costs on disk and in memory and what it predicts.
//
//   node examples/node/prune-and-ship.mjs model.onnx [--method unstructured|structured] [--amount 0.5]
//        [--dim NAME=VALUE ...] [--out model.epm]
//
// --dim gives a value to a symbolic input dim (the batch, or a height/width an exporter left open;
// unnamed ones are 1), as onnxruntime's freeDimensionOverrides.
// unstructured: zero the smallest |w| of each conv/linear layer (the .epm stores only non-zeros,
// the sparse kernels skip them); structured: remove whole channels (the model is physically
// smaller and faster with dense kernels). In another project: npm install edgeprune, same imports.
import { importOnnx, lnStructured, l1Unstructured, writeArtifact, InferenceSession as FullSession, Tensor as FullTensor } from 'edgeprune';
import { InferenceSession, Tensor, EdgepruneError } from 'edgeprune/runtime/dynamic';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const onnxPath = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
if (!onnxPath) {
  console.error('usage: node prune-and-ship.mjs model.onnx [--method unstructured|structured] [--amount 0.5] [--dim NAME=VALUE ...] [--out model.epm]');
  process.exit(2);
}
const method = option('--method', 'unstructured');
const amount = Number(option('--amount', '0.5'));
const out = option('--out', basename(onnxPath).replace(/\.onnx$/i, '') + '.epm');

const dims = {};
args.forEach((a, i) => {
  if (a !== '--dim') return;
  const [name, value] = (args[i + 1] ?? '').split('=');
  dims[name] = Number(value);
});

const kb = (n) => `${(n / 1024).toFixed(1)} kB`;

try {
  // 1. prune (the full library: ONNX import, pruning, artifact writer)
  const onnx = readFileSync(onnxPath);
  const graph = importOnnx(onnx);
  const inputDims = Object.fromEntries(graph.inputs.map((v) => [v.name, v.dims.map((d) => (typeof d === 'number' ? d : dims[d] ?? 1))]));
  let pruned;
  if (method === 'structured') pruned = await lnStructured(graph, { amount, norm: 2, inputDims });
  else if (method === 'unstructured') pruned = await l1Unstructured(graph, { amount });
  else throw new Error(`--method must be unstructured or structured, got ${method}`);
  const artifact = writeArtifact(pruned.graph);
  writeFileSync(out, artifact);

  // 2. ship: what an app does with the artifact, through the inference-only runtime
  const session = await InferenceSession.create(readFileSync(out), { freeDimensionOverrides: dims });
  // a model whose free dims cannot be 1 (a pool needs more than a 1x1 image) has no plan until
  // it knows their sizes
  const unplanned = session.modelInfo().unplanned;
  if (unplanned !== undefined) {
    console.error(`error: with its free input dims at 1 the model does not fit (${unplanned}); give them with --dim NAME=VALUE (${out} is written)`);
    process.exit(1);
  }
  const info = session.info();
  const input = info.inputs[0];
  // a deterministic input shaped like the model's (batch 1 for symbolic dims)
  const n = input.plannedDims.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 0.5 + 0.5);
  const feeds = { [input.name]: new Tensor('float32', data, input.plannedDims) };
  const result = await session.run(feeds);
  const times = [];
  for (let i = 0; i < 15; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  const ms = times.sort((a, b) => a - b)[times.length >> 1];
  const y = result[session.outputNames[0]];

  // the dense model on the same input, for comparison
  const dense = await FullSession.create(onnx, { wasm: info.kernels, freeDimensionOverrides: dims });
  const yDense = (await dense.run({ [input.name]: new FullTensor('float32', data, input.plannedDims) }))[session.outputNames[0]];
  const denseInfo = dense.info();
  const top = (d) => d.indexOf(Math.max(...d));

  console.log(`${basename(onnxPath)} → ${out} (${method}, amount ${amount})`);
  console.log(`  file        ${kb(onnx.byteLength)} ONNX → ${kb(artifact.byteLength)} .epm (${((100 * artifact.byteLength) / onnx.byteLength).toFixed(1)}%)`);
  console.log(`  parameters  ${denseInfo.params} → ${info.params} (${info.nonZeroParams} non-zero)`);
  console.log(`  peak memory ${kb(denseInfo.plannedPeakBytes)} → ${kb(info.plannedPeakBytes)} planned activations, ${kb(info.weightBytes)} packed weights`);
  console.log(`  FLOPs       ${(denseInfo.flops / 1e6).toFixed(2)} M → ${(info.flops / 1e6).toFixed(2)} M`);
  console.log(`  prediction  ${session.outputNames[0]} ${JSON.stringify(y.dims)}: class ${top(Array.from(y.data))} (dense model: class ${top(Array.from(yDense.data))}), median ${ms.toFixed(2)} ms per run, ${info.kernels} kernels`);
  console.log(`  output      ${JSON.stringify(Array.from(y.data))}`);
  await session.release();
  await dense.release();
} catch (e) {
  // typed errors say what to fix: one line, no stack
  if (e instanceof EdgepruneError || e?.code?.startsWith?.('E_')) {
    console.error(`error: ${e.message}`);
    process.exit(1);
  }
  throw e;
}
