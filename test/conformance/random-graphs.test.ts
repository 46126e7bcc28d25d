// Random DAGs of cheap ops (seeded, so every run builds the same graphs), compared with
// onnxruntime-node. They stress what single-op tests do not: buffer reuse, in-place writes,
// aliases (Reshape / Flatten / Identity), fusion decisions, values read by many nodes, and
// intermediate values that are also graph outputs.
import { describe, it } from 'vitest';
import { rng, randomInt } from '../util/rng.js';
import { expectSameAsOrt, i64, w, type ModelSpec, type NodeSpec, type TensorSpec } from './harness.js';

interface Val {
  name: string;
  dims: number[];
}

function randomGraph(seed: number): ModelSpec {
  const r = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const x: Val = { name: 'x', dims: [1, 3, 5, 6] };
  const vals: Val[] = [x];
  const nodes: NodeSpec[] = [];
  const inits: (TensorSpec & { name: string })[] = [];
  let k = 0;
  const fresh = (p: string) => `${p}${k++}`;
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  const steps = randomInt(r, 6, 14);
  for (let s = 0; s < steps; s++) {
    // prefer recent values so chains get long, but sometimes reach back
    const v = r() < 0.6 ? vals[vals.length - 1 - Math.floor(r() * Math.min(3, vals.length))] : pick(vals);
    const [, C, H, W] = v.dims;
    const kind = randomInt(r, 0, 10);
    const out = fresh('v');
    if (kind <= 1) {
      const op = pick(['Relu', 'Sigmoid', 'Tanh', 'Neg', 'Abs', 'LeakyRelu', 'HardSigmoid']);
      nodes.push({ op, inputs: [v.name], outputs: [out] });
      vals.push({ name: out, dims: v.dims });
    } else if (kind <= 3) {
      const partners = vals.filter((u) => same(u.dims, v.dims));
      const u = pick(partners);
      nodes.push({ op: pick(['Add', 'Mul', 'Sub', 'Max', 'Min']), inputs: r() < 0.5 ? [v.name, u.name] : [u.name, v.name], outputs: [out] });
      vals.push({ name: out, dims: v.dims });
    } else if (kind === 4) {
      const Cout = randomInt(r, 2, 6);
      const wn = fresh('w');
      const bn = fresh('b');
      inits.push(w(wn, [Cout, C, 3, 3], -0.4, 0.4), w(bn, [Cout]));
      nodes.push({ op: 'Conv', inputs: [v.name, wn, bn], outputs: [out], attrs: { pads: [1, 1, 1, 1] } });
      vals.push({ name: out, dims: [1, Cout, H, W] });
      if (r() < 0.5) {
        const a = fresh('a');
        nodes.push({ op: pick(['Relu', 'LeakyRelu']), inputs: [out], outputs: [a] });
        vals.push({ name: a, dims: [1, Cout, H, W] });
      }
    } else if (kind === 5) {
      const partners = vals.filter((u) => u.dims[2] === H && u.dims[3] === W);
      const u = pick(partners);
      nodes.push({ op: 'Concat', inputs: [v.name, u.name], outputs: [out], attrs: { axis: 1 } });
      vals.push({ name: out, dims: [1, C + u.dims[1], H, W] });
    } else if (kind === 6 && C >= 2) {
      const c1 = randomInt(r, 1, C - 1);
      const o2 = fresh('v');
      const sn = fresh('s');
      inits.push(i64(sn, [c1, C - c1]));
      nodes.push({ op: 'Split', inputs: [v.name, sn], outputs: [out, o2], attrs: { axis: 1 } });
      vals.push({ name: out, dims: [1, c1, H, W] }, { name: o2, dims: [1, C - c1, H, W] });
    } else if (kind === 7) {
      nodes.push({ op: 'Transpose', inputs: [v.name], outputs: [out], attrs: { perm: [0, 1, 3, 2] } });
      vals.push({ name: out, dims: [1, C, W, H] });
    } else if (kind === 8) {
      // an alias: reinterpret [1,C,H,W] as [1,C,W,H] (same storage, different dims)
      const sn = fresh('shape');
      inits.push(i64(sn, [0, 0, W, H]));
      nodes.push({ op: pick(['Reshape']), inputs: [v.name, sn], outputs: [out] });
      vals.push({ name: out, dims: [1, C, W, H] });
    } else if (kind === 9) {
      const g = fresh('g');
      nodes.push({ op: 'GlobalAveragePool', inputs: [v.name], outputs: [g] });
      nodes.push({ op: 'Sigmoid', inputs: [g], outputs: [`${g}s`] });
      nodes.push({ op: 'Mul', inputs: [v.name, `${g}s`], outputs: [out] });
      vals.push({ name: out, dims: v.dims });
    } else {
      nodes.push({ op: 'Identity', inputs: [v.name], outputs: [out] });
      vals.push({ name: out, dims: v.dims });
    }
  }
  const last = vals[vals.length - 1].name;
  const extra = vals.slice(1, -1).filter(() => r() < 0.2).map((v) => v.name);
  return { nodes, inputs: [{ name: 'x', dims: x.dims }], outputs: [...new Set([last, ...extra])], initializers: inits };
}

describe('random graphs', () => {
  for (let seed = 1; seed <= 40; seed++) {
    it(`seed ${seed}`, async () => {
      await expectSameAsOrt(randomGraph(seed), { range: [-2, 2] });
    });
  }
});
