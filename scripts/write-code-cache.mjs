// Writes the V8 code cache of Node's entry (dist/node/edgeprune.cjs, see src/node/load.ts): loads
// the bundle without a cache, runs what a cold start runs (import an ONNX file and an .epm
// artifact, create a session, run it) on a few small models covering the common ops, then saves the
// bytecode of every function compiled so far. scripts/build-dist.mjs runs it once per flag set, in
// a fresh process with those flags (V8 takes a cache only under the flags it was made with).
import { writeFileSync } from 'node:fs';

process.env.EDGEPRUNE_CODE_CACHE = '0'; // compile from source: a stale cache would be rejected anyway
const { loadLib, loadTrain, createCodeCache, codeCacheFile } = await import('../dist/node/load.mjs');
const lib = loadLib();
const train = loadTrain();

const int = (value) => ({ kind: 'int', value });
const ints = (value) => ({ kind: 'ints', value });
const float = (value) => ({ kind: 'float', value });
let seed = 1;
const random = (n) => Float32Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 0.5);

/** A graph from a node list; initializers as [name, dims] (random float32) or [name, dims, data]. */
function graph(input, output, nodes, initializers) {
  const inits = new Map(initializers.map(([name, dims, data]) => [name, { dtype: data instanceof BigInt64Array ? 'int64' : 'float32', dims, data: data ?? random(dims.reduce((a, b) => a * b, 1)) }]));
  return {
    name: 'warm-up', opset: 13, valueInfo: new Map(), initializers: inits,
    inputs: [{ name: 'x', dtype: 'float32', dims: input }],
    outputs: [{ name: 'y', dtype: 'float32', dims: output }],
    nodes: nodes.map(([op, inputs, outputs, attrs = {}], i) => ({ name: `${op}_${i}`, op, domain: '', inputs, outputs, attrs })),
  };
}

// a LeNet-style CNN with batch norm and a residual block, as edgeprune/train builds them
const cnn = train.sequential([1, 28, 28], [
  train.conv2d(8, 3), train.batchNorm(), train.relu(), train.maxPool(2),
  train.residual([train.conv2d(8, 3, { pads: 1 }), train.relu6()]), train.avgPool(2),
  train.conv2d(16, 3), train.leakyRelu(), train.globalAvgPool(), train.flatten(), train.linear(10),
]);

// MobileNetV3-style: depthwise conv, hard-swish, squeeze-and-excitation, a PyTorch reshape chain, softmax
const mobile = graph([1, 8, 16, 16], [1, 10], [
  ['Conv', ['x', 'w1', 'b1'], ['c1'], { kernel_shape: ints([1, 1]) }],
  ['BatchNormalization', ['c1', 's', 'bb', 'm', 'v'], ['n1'], { epsilon: float(1e-5) }],
  ['HardSwish', ['n1'], ['h1']],
  ['Conv', ['h1', 'wd'], ['d1'], { group: int(16), kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]), strides: ints([2, 2]) }],
  ['Relu', ['d1'], ['r1']],
  ['GlobalAveragePool', ['r1'], ['g1']],
  ['Conv', ['g1', 'ws1', 'bs1'], ['e1']],
  ['Relu', ['e1'], ['e2']],
  ['Conv', ['e2', 'ws2', 'bs2'], ['e3']],
  ['HardSigmoid', ['e3'], ['e4'], { alpha: float(1 / 6) }],
  ['Mul', ['r1', 'e4'], ['se']],
  ['Conv', ['se', 'w2'], ['p1']],
  ['Clip', ['p1', 'lo', 'hi'], ['p2']],
  ['Add', ['p2', 'p1'], ['a1']],
  ['Sigmoid', ['a1'], ['a2']],
  ['MaxPool', ['a2'], ['mp'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }],
  ['Shape', ['mp'], ['sh']],
  ['Gather', ['sh', 'zero'], ['n'], { axis: int(0) }],
  ['Unsqueeze', ['n', 'zeros'], ['nu']],
  ['Concat', ['nu', 'minus1'], ['shape'], { axis: int(0) }],
  ['Reshape', ['mp', 'shape'], ['flat']],
  ['Gemm', ['flat', 'wf', 'bf'], ['logits'], { transB: int(1) }],
  ['Softmax', ['logits'], ['y'], { axis: int(1) }],
], [
  ['w1', [16, 8, 1, 1]], ['b1', [16]], ['s', [16]], ['bb', [16]], ['m', [16]], ['v', [16], new Float32Array(16).fill(1)],
  ['wd', [16, 1, 3, 3]], ['ws1', [4, 16, 1, 1]], ['bs1', [4]], ['ws2', [16, 4, 1, 1]], ['bs2', [16]], ['w2', [16, 16, 1, 1]],
  ['lo', [], new Float32Array([0])], ['hi', [], new Float32Array([6])],
  ['zero', [], new BigInt64Array([0n])], ['zeros', [1], new BigInt64Array([0n])], ['minus1', [1], new BigInt64Array([-1n])],
  ['wf', [10, 256]], ['bf', [10]],
]);

// an MLP / attention-style block: MatMul, Transpose, Div, Softmax, Tanh, ReduceMean
const mlp = graph([2, 4, 16], [2, 4, 16], [
  ['MatMul', ['x', 'wq'], ['q']],
  ['Transpose', ['x'], ['xt'], { perm: ints([0, 2, 1]) }],
  ['MatMul', ['q', 'xt'], ['att']],
  ['Div', ['att', 'four'], ['atts']],
  ['Softmax', ['atts'], ['p'], { axis: int(-1) }],
  ['MatMul', ['p', 'x'], ['ctx']],
  ['ReduceMean', ['ctx'], ['mean'], { axes: ints([-1]) }],
  ['Sub', ['ctx', 'mean'], ['centered']],
  ['Tanh', ['centered'], ['t']],
  ['Add', ['t', 'x'], ['y']],
], [['wq', [16, 16]], ['four', [], new Float32Array([4])]]);

// a detection / segmentation head: upsampling, skip concat, transposed conv, padding, slicing, casts
const head = graph([1, 4, 8, 8], [1, 100], [
  ['Conv', ['x', 'wa'], ['a'], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) }],
  ['MaxPool', ['a'], ['p'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }],
  ['Resize', ['p', '', 'scales'], ['u'], { mode: { kind: 'string', value: 'nearest' } }],
  ['Concat', ['a', 'u'], ['c'], { axis: int(1) }],
  ['ConvTranspose', ['c', 'wt'], ['t'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }],
  ['Pad', ['t', 'pads'], ['pd']],
  ['AveragePool', ['pd'], ['ap'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }],
  ['Flatten', ['ap'], ['fl'], { axis: int(1) }],
  ['Slice', ['fl', 'starts', 'ends', 'axes'], ['sl']],
  ['Div', ['sl', 'six'], ['dv']],
  ['Sub', ['dv', 'one'], ['sb']],
  ['Exp', ['sb'], ['ex']],
  ['Cast', ['ex'], ['y'], { to: int(1) }],
], [
  ['wa', [8, 4, 3, 3]], ['wt', [16, 4, 2, 2]], ['scales', [4], new Float32Array([1, 1, 2, 2])],
  ['pads', [8], new BigInt64Array([0n, 0n, 1n, 1n, 0n, 0n, 1n, 1n])],
  ['starts', [1], new BigInt64Array([0n])], ['ends', [1], new BigInt64Array([100n])], ['axes', [1], new BigInt64Array([1n])],
  ['six', [], new Float32Array([6])], ['one', [], new Float32Array([1])],
]);

const inputOf = (g) => g.inputs[0].dims.map((d) => (typeof d === 'number' ? d : 1));
for (const g of [cnn, mobile, mlp, head]) {
  for (const bytes of [lib.exportOnnx(g), lib.writeArtifact(g)]) {
    const session = await lib.InferenceSession.create(bytes);
    const dims = inputOf(g);
    const x = new lib.Tensor('float32', random(dims.reduce((a, b) => a * b, 1)), dims);
    const out = await session.run({ [session.inputNames[0]]: x });
    for (const t of Object.values(out)) if (!t.data.every(Number.isFinite)) throw new Error('warm-up: a non-finite output');
    session.info();
    await session.release();
  }
}

const file = codeCacheFile();
const cache = createCodeCache();
writeFileSync(file, cache);
console.log(`wrote ${file.replace(/^.*\/dist\//, 'dist/')} (${(cache.length / 1024).toFixed(0)} KiB, the V8 code cache for Node ${process.version}${process.execArgv.length ? ' ' + process.execArgv.join(' ') : ''})`);
