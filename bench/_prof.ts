import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { mobileNetBlocks } from './model-zoo.js';
const m = mobileNetBlocks();
const s = await InferenceSession.create(m.bytes, { wasm: 'relaxed' });
const x = new Tensor('float32', new Float32Array(3 * 112 * 112).fill(0.5), m.input.dims);
for (let i = 0; i < 20; i++) await s.run({ x });
const a = (s as any).active;
const times = new Array(a.steps.length).fill(0);
for (let r = 0; r < 50; r++) {
  a.steps.forEach((st: any, i: number) => { const t = performance.now(); st.exec.run(st.ins, st.outs, st.scratch); times[i] += performance.now() - t; });
}
const info = s.info();
info.nodes.forEach((n, i) => { if (times[i] / 50 > 0.02) console.log(n.op.padEnd(18), n.kernel.padEnd(20), JSON.stringify(n.outputDims).padEnd(18), (times[i] / 50).toFixed(3), 'ms', (n.flops / (times[i] / 50) / 1e6).toFixed(1), 'GF/s'); });
console.log('total', (times.reduce((a, b) => a + b) / 50).toFixed(3));
let t0 = performance.now();
for (let r = 0; r < 50; r++) await s.run({ x });
console.log('run()', ((performance.now() - t0) / 50).toFixed(3));
t0 = performance.now();
for (let r = 0; r < 50; r++) for (const st of a.steps) st.exec.run(st.ins, st.outs, st.scratch);
console.log('steps', ((performance.now() - t0) / 50).toFixed(3));
