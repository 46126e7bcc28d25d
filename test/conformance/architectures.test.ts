// Blocks of well-known architectures as their PyTorch exports write them, against
// onnxruntime-node: ShuffleNetV2 (Split, channel shuffle through a 5-D Transpose), ConvNeXt
// (depthwise 7x7, NHWC LayerNorm and MLP, GELU, layer scale), YOLO (SiLU, Split, SPPF max
// pools), SqueezeNet (Fire modules, ceil-mode pooling), DenseNet (growing Concat, 2x2 average
// pool), a ViT encoder block (patch embedding, multi-head attention) and a U-Net decoder step.
import { describe, it } from 'vitest';
import { expectSameAsOrt, f32, i64, w, type ModelSpec, type NodeSpec, type TensorSpec } from './harness.js';

type Init = TensorSpec & { name: string };

/** Conv + bias (+ BN folded by the exporter: plain conv with bias), named from a prefix. */
function conv(p: string, x: string, out: string, cin: number, cout: number, k: number, attrs: NodeSpec['attrs'] = {}): { nodes: NodeSpec[]; inits: Init[] } {
  const group = (attrs.group as number | undefined) ?? 1;
  const pad = (k - 1) >> 1;
  return {
    nodes: [{ op: 'Conv', inputs: [x, `${p}.w`, `${p}.b`], outputs: [out], attrs: { kernel_shape: [k, k], pads: [pad, pad, pad, pad], ...attrs } }],
    inits: [w(`${p}.w`, [cout, cin / group, k, k], -0.4, 0.4), w(`${p}.b`, [cout], -0.1, 0.1)],
  };
}

/** x · Sigmoid(x): SiLU as torch exports it. */
function silu(x: string, out: string): NodeSpec[] {
  return [{ op: 'Sigmoid', inputs: [x], outputs: [`${out}.s`] }, { op: 'Mul', inputs: [x, `${out}.s`], outputs: [out] }];
}

function spec(nodes: NodeSpec[], inits: Init[], x: number[], opset = 13): ModelSpec {
  return { opset, nodes, inputs: [{ name: 'x', dims: x }], outputs: ['y'], initializers: inits };
}

describe('blocks of well-known architectures, as exported', () => {
  it('ShuffleNetV2 unit: Split, a branch, Concat and the channel shuffle (Reshape to 5-D, Transpose, Reshape)', async () => {
    const a = conv('pw1', 'x2', 'b1', 8, 8, 1);
    const d = conv('dw', 'r1', 'b2', 8, 8, 3, { group: 8 });
    const c = conv('pw2', 'b2', 'b3', 8, 8, 1);
    await expectSameAsOrt(spec([
      { op: 'Split', inputs: ['x', 'split'], outputs: ['x1', 'x2'], attrs: { axis: 1 } },
      ...a.nodes, { op: 'Relu', inputs: ['b1'], outputs: ['r1'] }, ...d.nodes, ...c.nodes, { op: 'Relu', inputs: ['b3'], outputs: ['r3'] },
      { op: 'Concat', inputs: ['x1', 'r3'], outputs: ['cat'], attrs: { axis: 1 } },
      { op: 'Reshape', inputs: ['cat', 'shape5'], outputs: ['g'] },
      { op: 'Transpose', inputs: ['g'], outputs: ['t'], attrs: { perm: [0, 2, 1, 3, 4] } },
      { op: 'Reshape', inputs: ['t', 'shape4'], outputs: ['y'] },
    ], [...a.inits, ...d.inits, ...c.inits, i64('split', [8, 8]), i64('shape5', [1, 2, 8, 7, 9]), i64('shape4', [1, 16, 7, 9])], [1, 16, 7, 9]));
  });

  it('ConvNeXt block: depthwise 7x7, permute to NHWC, LayerNorm, Linear-GELU-Linear, layer scale, permute back, residual', async () => {
    const d = conv('dw', 'x', 'c', 8, 8, 7, { group: 8 });
    await expectSameAsOrt(spec([
      ...d.nodes,
      { op: 'Transpose', inputs: ['c'], outputs: ['nhwc'], attrs: { perm: [0, 2, 3, 1] } },
      { op: 'LayerNormalization', inputs: ['nhwc', 'ln.g', 'ln.b'], outputs: ['ln'], attrs: { axis: -1, epsilon: { float: 1e-6 } } },
      { op: 'MatMul', inputs: ['ln', 'fc1.w'], outputs: ['h'] }, { op: 'Add', inputs: ['h', 'fc1.b'], outputs: ['hb'] },
      { op: 'Div', inputs: ['hb', 'sqrt2'], outputs: ['hd'] }, { op: 'Erf', inputs: ['hd'], outputs: ['he'] },
      { op: 'Add', inputs: ['he', 'one'], outputs: ['h1'] }, { op: 'Mul', inputs: ['hb', 'h1'], outputs: ['hm'] },
      { op: 'Mul', inputs: ['hm', 'half'], outputs: ['gelu'] },
      { op: 'MatMul', inputs: ['gelu', 'fc2.w'], outputs: ['o'] }, { op: 'Add', inputs: ['o', 'fc2.b'], outputs: ['ob'] },
      { op: 'Mul', inputs: ['ob', 'gamma'], outputs: ['os'] },
      { op: 'Transpose', inputs: ['os'], outputs: ['nchw'], attrs: { perm: [0, 3, 1, 2] } },
      { op: 'Add', inputs: ['x', 'nchw'], outputs: ['y'] },
    ], [...d.inits, w('ln.g', [8], 0.5, 1.5), w('ln.b', [8]), w('fc1.w', [8, 32], -0.3, 0.3), w('fc1.b', [32]), w('fc2.w', [32, 8], -0.3, 0.3), w('fc2.b', [8]),
      w('gamma', [8], 0.1, 0.5), f32('sqrt2', [Math.SQRT2], []), f32('one', [1], []), f32('half', [0.5], [])], [2, 8, 10, 9], 17));
  });

  it('YOLO C2f and SPPF: SiLU convs, Split into halves, bottleneck, Concat, three 5x5 max pools', async () => {
    const c1 = conv('cv1', 'x', 'a', 8, 8, 1);
    const m1 = conv('m1', 'a2s', 'm', 4, 4, 3);
    const c2 = conv('cv2', 'cat', 'o', 12, 8, 1);
    const s1 = conv('sp1', 'os', 'p0', 8, 4, 1);
    const s2 = conv('sp2', 'pcat', 'q', 16, 8, 1);
    await expectSameAsOrt(spec([
      ...c1.nodes, ...silu('a', 'as'),
      { op: 'Split', inputs: ['as', 'halves'], outputs: ['a1', 'a2'], attrs: { axis: 1 } },
      ...silu('a2', 'a2s'), ...m1.nodes, ...silu('m', 'ms'), { op: 'Add', inputs: ['a2', 'ms'], outputs: ['res'] },
      { op: 'Concat', inputs: ['a1', 'a2', 'res'], outputs: ['cat'], attrs: { axis: 1 } },
      ...c2.nodes, ...silu('o', 'os'),
      ...s1.nodes,
      { op: 'MaxPool', inputs: ['p0'], outputs: ['p1'], attrs: { kernel_shape: [5, 5], strides: [1, 1], pads: [2, 2, 2, 2] } },
      { op: 'MaxPool', inputs: ['p1'], outputs: ['p2'], attrs: { kernel_shape: [5, 5], strides: [1, 1], pads: [2, 2, 2, 2] } },
      { op: 'MaxPool', inputs: ['p2'], outputs: ['p3'], attrs: { kernel_shape: [5, 5], strides: [1, 1], pads: [2, 2, 2, 2] } },
      { op: 'Concat', inputs: ['p0', 'p1', 'p2', 'p3'], outputs: ['pcat'], attrs: { axis: 1 } },
      ...s2.nodes, ...silu('q', 'y'),
    ], [...c1.inits, ...m1.inits, ...c2.inits, ...s1.inits, ...s2.inits, i64('halves', [4, 4])], [1, 8, 12, 11]));
  });

  it('SqueezeNet: ceil-mode max pool, Fire module (1x1 squeeze, 1x1 and 3x3 expand, Concat), Dropout, global pool', async () => {
    const sq = conv('sq', 'p', 's', 8, 4, 1);
    const e1 = conv('e1', 'sr', 'x1', 4, 6, 1);
    const e3 = conv('e3', 'sr', 'x3', 4, 6, 3);
    const g = { op: 'GlobalAveragePool', inputs: ['d'], outputs: ['gp'] };
    await expectSameAsOrt(spec([
      { op: 'MaxPool', inputs: ['x'], outputs: ['p'], attrs: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 } },
      ...sq.nodes, { op: 'Relu', inputs: ['s'], outputs: ['sr'] },
      ...e1.nodes, ...e3.nodes, { op: 'Relu', inputs: ['x1'], outputs: ['r1'] }, { op: 'Relu', inputs: ['x3'], outputs: ['r3'] },
      { op: 'Concat', inputs: ['r1', 'r3'], outputs: ['f'], attrs: { axis: 1 } },
      { op: 'Dropout', inputs: ['f'], outputs: ['d'] }, g,
      { op: 'Flatten', inputs: ['gp'], outputs: ['y'], attrs: { axis: 1 } },
    ], [...sq.inits, ...e1.inits, ...e3.inits], [2, 8, 14, 16]));
  });

  it('DenseNet: a dense block (each layer concatenated onto its input) and a transition (1x1 conv, 2x2 average pool)', async () => {
    const nodes: NodeSpec[] = [];
    const inits: Init[] = [];
    let cur = 'x';
    let ch = 6;
    for (let i = 0; i < 3; i++) {
      const c = conv(`d${i}`, `r${i}`, `n${i}`, ch, 4, 3);
      nodes.push({ op: 'Relu', inputs: [cur], outputs: [`r${i}`] }, ...c.nodes, { op: 'Concat', inputs: [cur, `n${i}`], outputs: [`cat${i}`], attrs: { axis: 1 } });
      inits.push(...c.inits);
      cur = `cat${i}`;
      ch += 4;
    }
    const t = conv('tr', cur, 't', ch, 8, 1);
    nodes.push(...t.nodes, { op: 'AveragePool', inputs: ['t'], outputs: ['y'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } });
    await expectSameAsOrt(spec(nodes, [...inits, ...t.inits], [1, 6, 10, 12]));
  });

  it('ViT encoder block: 4x4 patch embedding, class token, position embedding, pre-norm 2-head attention and MLP', async () => {
    const D = 8, H = 2, dh = D / H, T = 10; // 9 patches + the class token
    const qkv = ['q', 'k', 'v'];
    const nodes: NodeSpec[] = [
      { op: 'Conv', inputs: ['x', 'pe.w', 'pe.b'], outputs: ['pe'], attrs: { kernel_shape: [4, 4], strides: [4, 4] } },
      { op: 'Reshape', inputs: ['pe', 'toTokens'], outputs: ['pf'] }, // [1, D, 9]
      { op: 'Transpose', inputs: ['pf'], outputs: ['tok'], attrs: { perm: [0, 2, 1] } }, // [1, 9, D]
      { op: 'Concat', inputs: ['cls', 'tok'], outputs: ['seq'], attrs: { axis: 1 } },
      { op: 'Add', inputs: ['seq', 'pos'], outputs: ['h0'] },
      { op: 'LayerNormalization', inputs: ['h0', 'ln1.g', 'ln1.b'], outputs: ['n1'], attrs: { axis: -1 } },
      ...qkv.flatMap((n): NodeSpec[] => [
        { op: 'MatMul', inputs: ['n1', `${n}.w`], outputs: [`${n}0`] },
        { op: 'Add', inputs: [`${n}0`, `${n}.b`], outputs: [`${n}1`] },
        { op: 'Reshape', inputs: [`${n}1`, 'heads'], outputs: [`${n}2`] }, // [1, T, H, dh]
        { op: 'Transpose', inputs: [`${n}2`], outputs: [`${n}h`], attrs: { perm: n === 'k' ? [0, 2, 3, 1] : [0, 2, 1, 3] } },
      ]),
      { op: 'MatMul', inputs: ['qh', 'kh'], outputs: ['att0'] }, // [1, H, T, T]
      { op: 'Mul', inputs: ['att0', 'scale'], outputs: ['att1'] },
      { op: 'Softmax', inputs: ['att1'], outputs: ['att'], attrs: { axis: -1 } },
      { op: 'MatMul', inputs: ['att', 'vh'], outputs: ['ctx0'] }, // [1, H, T, dh]
      { op: 'Transpose', inputs: ['ctx0'], outputs: ['ctx1'], attrs: { perm: [0, 2, 1, 3] } },
      { op: 'Reshape', inputs: ['ctx1', 'merge'], outputs: ['ctx'] },
      { op: 'MatMul', inputs: ['ctx', 'o.w'], outputs: ['o0'] }, { op: 'Add', inputs: ['o0', 'o.b'], outputs: ['o1'] },
      { op: 'Add', inputs: ['h0', 'o1'], outputs: ['h1'] },
      { op: 'LayerNormalization', inputs: ['h1', 'ln2.g', 'ln2.b'], outputs: ['n2'], attrs: { axis: -1 } },
      { op: 'MatMul', inputs: ['n2', 'f1.w'], outputs: ['f0'] }, { op: 'Add', inputs: ['f0', 'f1.b'], outputs: ['f1'] },
      { op: 'Gelu', inputs: ['f1'], outputs: ['g'], domain: '' },
      { op: 'MatMul', inputs: ['g', 'f2.w'], outputs: ['f2'] }, { op: 'Add', inputs: ['f2', 'f2.b'], outputs: ['f3'] },
      { op: 'Add', inputs: ['h1', 'f3'], outputs: ['y'] },
    ];
    const inits: Init[] = [
      w('pe.w', [D, 3, 4, 4], -0.3, 0.3), w('pe.b', [D]), i64('toTokens', [1, D, 9]), w('cls', [1, 1, D]), w('pos', [1, T, D], -0.1, 0.1),
      w('ln1.g', [D], 0.5, 1.5), w('ln1.b', [D]), w('ln2.g', [D], 0.5, 1.5), w('ln2.b', [D]),
      ...qkv.flatMap((n) => [w(`${n}.w`, [D, D], -0.4, 0.4), w(`${n}.b`, [D])]), i64('heads', [1, T, H, dh]), f32('scale', [1 / Math.sqrt(dh)], []),
      i64('merge', [1, T, D]), w('o.w', [D, D], -0.4, 0.4), w('o.b', [D]), w('f1.w', [D, 16], -0.4, 0.4), w('f1.b', [16]), w('f2.w', [16, D], -0.4, 0.4), w('f2.b', [D]),
    ];
    await expectSameAsOrt(spec(nodes, inits, [1, 3, 12, 12], 20));
  });

  it('U-Net decoder step: ConvTranspose 2x2 upsampling, Concat with the skip, two 3x3 conv-BN-Relu', async () => {
    const up = { op: 'ConvTranspose', inputs: ['x', 'up.w', 'up.b'], outputs: ['u'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } };
    const c1 = conv('c1', 'cat', 'a', 16, 8, 3);
    const c2 = conv('c2', 'ar', 'b', 8, 8, 3);
    await expectSameAsOrt({
      opset: 13,
      nodes: [up, { op: 'Concat', inputs: ['u', 'skip'], outputs: ['cat'], attrs: { axis: 1 } }, ...c1.nodes, { op: 'Relu', inputs: ['a'], outputs: ['ar'] }, ...c2.nodes, { op: 'Relu', inputs: ['b'], outputs: ['y'] }],
      inputs: [{ name: 'x', dims: [1, 16, 6, 7] }, { name: 'skip', dims: [1, 8, 12, 14] }],
      outputs: ['y'],
      initializers: [w('up.w', [16, 8, 2, 2], -0.3, 0.3), w('up.b', [8]), ...c1.inits, ...c2.inits],
    });
  });
});
