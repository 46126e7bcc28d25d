import * as ort from 'onnxruntime-web';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { mobileNetBlocks } from './model-zoo.js';
const m = mobileNetBlocks();
const s = await InferenceSession.create(m.bytes, { wasm: 'simd' });
const x = new Tensor('float32', new Float32Array(3 * 112 * 112).fill(0.5), m.input.dims);
const time = async (f: () => Promise<unknown>, n = 30) => { const t = performance.now(); for (let i = 0; i < n; i++) await f(); return (performance.now() - t) / n; };
for (let i = 0; i < 10; i++) await s.run({ x });
console.log('ours alone', (await time(() => s.run({ x }))).toFixed(3));
ort.env.wasm.numThreads = 1;
const o = await ort.InferenceSession.create(m.bytes, { executionProviders: ['wasm'] });
const ox = { x: new ort.Tensor('float32', x.data, m.input.dims) };
for (let i = 0; i < 10; i++) await o.run(ox);
console.log('ort alone', (await time(() => o.run(ox))).toFixed(3));
console.log('ours after ort', (await time(() => s.run({ x }))).toFixed(3));
let a = 0, b = 0;
for (let i = 0; i < 20; i++) { a += await time(() => s.run({ x }), 3); b += await time(() => o.run(ox), 3); }
console.log('interleaved ours', (a / 20).toFixed(3), 'ort', (b / 20).toFixed(3));
const s2 = await InferenceSession.create(m.bytes, { wasm: 'relaxed' });
for (let i = 0; i < 10; i++) await s2.run({ x });
let c = 0; a = 0; b = 0;
for (let i = 0; i < 20; i++) { a += await time(() => s.run({ x }), 3); c += await time(() => s2.run({ x }), 3); b += await time(() => o.run(ox), 3); }
console.log('3-way interleaved simd', (a / 20).toFixed(3), 'relaxed', (c / 20).toFixed(3), 'ort', (b / 20).toFixed(3));
