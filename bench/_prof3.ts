import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { mobileNetBlocks } from './model-zoo.js';
const m = mobileNetBlocks();
const s = await InferenceSession.create(m.bytes, { wasm: 'relaxed' });
const x = new Tensor('float32', new Float32Array(3 * 112 * 112).fill(0.5), m.input.dims);
const ts: number[] = [];
for (let i = 0; i < 300; i++) { const t = performance.now(); await s.run({ x }); ts.push(performance.now() - t); }
console.log(ts.slice(0, 20).map((v) => v.toFixed(1)).join(' '));
console.log(ts.slice(280).map((v) => v.toFixed(1)).join(' '));
const sorted = [...ts.slice(50)].sort((a, b) => a - b);
console.log('p10', sorted[25].toFixed(2), 'p50', sorted[125].toFixed(2), 'p90', sorted[225].toFixed(2));
