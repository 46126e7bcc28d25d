// Activations that exporters write as chains of elementwise nodes, found so the plan runs each
// chain as one kernel pass:
//   SiLU / Swish  Mul(x, Sigmoid(x))                      PyTorch (YOLO, EfficientNet)
//   HardSwish     Mul(x, HardSigmoid(x))                  PyTorch before opset 14
//                 Div(Mul(x, Clip(Add(x, 3), 0, 6)), 6)   paddle2onnx (Mul by 1/6: tf2onnx;
//                 Mul(x, Div(Clip(..), 6)): hand-written hard_swish)
//   affine        Add(Mul(x, a), b), scalars a and b      PP-LCNetV3's learnable affine blocks
//                                                         (PaddleOCR v4: 56 in the recogniser;
//                                                         after a hard-swish, in its pass)
//   fake quant    DequantizeLinear(QuantizeLinear(x))     QDQ int8 models, around every layer
//                 with one scale and zero point
// The fused kernels do the nodes' own f32 operations in the same order, so the result is
// bit-identical; what goes is the passes over memory (4 to 1 for HardSwish) and the executors.
// The graph keeps its nodes: the chain's first node runs the kernel, the others alias it.
import type { Graph, Node } from '../graph/ir.js';
import { toFloat32 } from '../graph/tensor.js';
import type { UnaryOp, UnaryParams } from '../kernels/unary.js';
import type { OpInput } from './op.js';
import { clipBounds } from './ops/unary.js';
import { quantOf, quantizeOp } from './ops/quant.js';
import { attrFloat } from '../graph/attrs.js';

/** The ops a fused chain can start with. */
const CHAIN_HEADS = new Set(['Sigmoid', 'HardSigmoid', 'QuantizeLinear', 'Mul', 'Add']);

export interface ElementwiseChain {
  op: UnaryOp;
  params: UnaryParams;
  /** The head's input that holds x. */
  x: number;
  /** The value the chain's last node writes. */
  out?: string;
  /** An affine block after a hard-swish chain, run in the same pass: y = op(x) * alpha + beta. */
  then?: { alpha: number; beta: number };
}

export interface ElementwiseChains {
  heads: Map<Node, ElementwiseChain>;
  /** The chain's other nodes, each with the input that carries the chain (their output aliases it). */
  absorbed: Map<Node, number>;
}

/**
 * @param onlyReader the one node that reads a value (not a graph output), else undefined
 * @param inputsOf a node's inputs with dims and constants
 */
export function findElementwiseChains(g: Graph, dims: Map<string, number[]>, onlyReader: (value: string) => Node | undefined,
  inputsOf: (n: Node) => (OpInput | undefined)[]): ElementwiseChains {
  const heads = new Map<Node, ElementwiseChain>();
  const absorbed = new Map<Node, number>();
  const scalar = (inp: OpInput | undefined): number | undefined => {
    const c = inp?.constant;
    return c && c.data.length === 1 ? toFloat32(c)[0] : undefined;
  };
  for (const head of g.nodes) {
    if (head.domain !== '' || head.outputs.length !== 1 || absorbed.has(head) || !CHAIN_HEADS.has(head.op)) continue;
    const ins = inputsOf(head); // for the few heads only: it allocates, and runs in every plan
    let x: number;
    if (head.op === 'Sigmoid' || head.op === 'HardSigmoid' || head.op === 'QuantizeLinear') x = 0;
    else if (head.op === 'Mul' && ins.length === 2) x = scalar(ins[1]) !== undefined ? 0 : scalar(ins[0]) !== undefined ? 1 : -1;
    else if (head.op === 'Add' && ins.length === 2) x = scalar(ins[1]) === 3 ? 0 : scalar(ins[0]) === 3 ? 1 : -1;
    else continue;
    const xName = head.inputs[x];
    const xDims = ins[x]?.dims;
    if (x < 0 || !xName || ins[x]?.constant || !xDims) continue;
    const sameDims = (n: Node) => dims.get(n.outputs[0])?.join() === xDims.join();
    // walks one node: the sole reader of `value`, of op `op`, whose other input passes `other`
    const next = (value: string, op: string, other?: (inp: OpInput | undefined, name: string) => boolean): { node: Node; at: number } | undefined => {
      const n = onlyReader(value);
      if (!n || n.op !== op || n.domain !== '' || n.outputs.length !== 1 || !sameDims(n)) return undefined;
      const at = n.inputs.indexOf(value);
      if (n.inputs.lastIndexOf(value) !== at) return undefined;
      if (other) {
        const o = n.inputs.length === 2 ? 1 - at : -1;
        if (o < 0 || !other(inputsOf(n)[o], n.inputs[o])) return undefined;
      }
      return { node: n, at };
    };
    const timesX = (inp: OpInput | undefined, name: string) => name === xName && !inp?.constant;
    const chain: { node: Node; at: number }[] = [];
    let fused: ElementwiseChain | undefined;
    if (head.op === 'QuantizeLinear') {
      const dq = next(head.outputs[0], 'DequantizeLinear');
      const q = dq?.at === 0 ? fakeQuantOf(head, ins, dq.node, inputsOf(dq.node)) : undefined;
      if (dq && q) {
        chain.push(dq);
        fused = { op: q.op, params: { scale: q.scale, zeroPoint: q.zeroPoint }, x };
      }
    } else if (head.op === 'Mul') {
      let b: number | undefined;
      const add = next(head.outputs[0], 'Add', (inp) => (b = scalar(inp)) !== undefined);
      if (add) {
        chain.push(add);
        fused = { op: 'affine', params: { alpha: scalar(ins[1 - x]), beta: b }, x };
      }
    } else if (head.op !== 'Add') {
      const mul = next(head.outputs[0], 'Mul', timesX);
      if (mul) {
        chain.push(mul);
        fused = head.op === 'Sigmoid' ? { op: 'silu', params: {}, x }
          : { op: 'xHardSigmoid', params: { alpha: attrFloat(head, 'alpha', 0.2), beta: attrFloat(head, 'beta', 0.5) }, x };
      }
    } else {
      const clip = next(head.outputs[0], 'Clip');
      const b = clip && clip.at === 0 ? clipOf(clip.node, inputsOf(clip.node), g.opset) : undefined;
      if (clip && b && b.min === 0 && b.max === 6) {
        let c: number | undefined;
        const byC = (inp: OpInput | undefined) => (c = scalar(inp)) !== undefined && Number.isFinite(c) && c !== 0;
        const mul = next(clip.node.outputs[0], 'Mul', timesX);
        const div = mul ? undefined : next(clip.node.outputs[0], 'Div', byC);
        const scaled = mul ? undefined : div?.at === 0 ? div : next(clip.node.outputs[0], 'Mul', byC);
        if (mul) {
          // (x * t) then / c or * c
          const d = next(mul.node.outputs[0], 'Div', byC);
          const m = d?.at === 0 ? d : next(mul.node.outputs[0], 'Mul', byC);
          if (m) {
            chain.push(clip, mul, m);
            fused = { op: `hardSwish${m.node.op as 'Div' | 'Mul'}`, params: { c }, x };
          }
        } else if (scaled) {
          // x * (t / c) or x * (t * c)
          const m = next(scaled.node.outputs[0], 'Mul', timesX);
          if (m) {
            chain.push(clip, scaled, m);
            fused = { op: `hardSwish${scaled.node.op as 'Div' | 'Mul'}First`, params: { c }, x };
          }
        }
      }
    }
    if (!fused || chain.some((s) => heads.has(s.node) || absorbed.has(s.node))) continue;
    heads.set(head, { ...fused, out: chain[chain.length - 1].node.outputs[0] });
    for (const s of chain) absorbed.set(s.node, s.at);
  }
  // a hard-swish chain then an affine block (PP-LCNetV3, after every activation): one pass
  for (const c of heads.values()) {
    const mul = c.op.startsWith('hardSwish') ? onlyReader(c.out!) : undefined;
    const affine = mul && heads.get(mul);
    if (!mul || affine?.op !== 'affine') continue;
    c.then = { alpha: affine.params.alpha!, beta: affine.params.beta! };
    c.out = affine.out;
    heads.delete(mul);
    absorbed.set(mul, affine.x);
  }
  return { heads, absorbed };
}

/**
 * A QuantizeLinear and the DequantizeLinear reading it as one fake-quantization op: both per
 * tensor with the same scale and zero point, to uint8 or int8. Anything else (a malformed pair
 * included: its nodes then fail on their own) is undefined.
 */
function fakeQuantOf(q: Node, qIns: (OpInput | undefined)[], dq: Node, dqIns: (OpInput | undefined)[]): { op: 'fakeQuantU8' | 'fakeQuantI8'; scale: number; zeroPoint: number } | undefined {
  try {
    const a = quantOf(q, qIns);
    const b = quantOf(dq, [{ ...dqIns[0]!, constant: undefined }, ...dqIns.slice(1)]);
    const op = quantizeOp(a);
    if (!op || a.axis !== undefined || b.axis !== undefined || a.type !== b.type) return undefined;
    if (!Object.is(a.scales[0], b.scales[0]) || a.zeroPoints[0] !== b.zeroPoints[0]) return undefined;
    return { op: op === 'quantizeU8' ? 'fakeQuantU8' : 'fakeQuantI8', scale: a.scales[0], zeroPoint: a.zeroPoints[0] };
  } catch {
    return undefined;
  }
}

/** Clip's bounds, or undefined when they are computed at run time. */
export function clipOf(node: Node, inputs: (OpInput | undefined)[], opset: number): { min: number; max: number } | undefined {
  try {
    return clipBounds(node, inputs, opset);
  } catch {
    return undefined;
  }
}
