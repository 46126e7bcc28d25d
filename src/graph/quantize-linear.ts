// ONNX QuantizeLinear / DequantizeLinear (the QDQ format of int8 models: onnxruntime's
// quantize_static, PyTorch and TensorFlow QAT exports): their parameters, read once for the
// constant folder (weights) and the runtime (activations), with the spec's checks.
//   QuantizeLinear    y = clamp(round_half_even(x / scale) + zero_point, the type's range)
//   DequantizeLinear  y = (x - zero_point) * scale
// scale and zero_point are one value (per tensor) or one per slice along `axis` (per channel).
import { ModelFormatError, UnsupportedOpError } from '../errors.js';
import { attrInt } from './attrs.js';
import type { ConstTensor, DType, Node } from './ir.js';
import { DTYPE_OF_ONNX_CODE, numel, toFloat32, toNumbers } from './tensor.js';

/** The integer types edgeprune quantizes to, with their ranges. */
export const QUANT_RANGES: Readonly<Partial<Record<DType, readonly [number, number]>>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  uint16: [0, 65535],
  int16: [-32768, 32767],
};

export interface LinearQuant {
  /** The axis of per-channel parameters (normalised); undefined when one scale covers the tensor. */
  axis?: number;
  scales: Float32Array;
  zeroPoints: number[];
  /** QuantizeLinear's output type, DequantizeLinear's input type. */
  type: DType;
}

/**
 * Reads a QuantizeLinear / DequantizeLinear node's parameters for an input of `rank` dims whose
 * size along the axis is `axisSize(axis)`. `xType`: DequantizeLinear's input type when known (a
 * constant); QuantizeLinear's output type comes from the zero point, else output_dtype
 * (opset 21), else uint8.
 */
export function linearQuant(node: Node, scale: ConstTensor, zeroPoint: ConstTensor | undefined, rank: number,
  axisSize: (axis: number) => number, xType?: DType): LinearQuant {
  const bad = (what: string) => new ModelFormatError(`node '${node.name}' (${node.op}): ${what}`);
  if (attrInt(node, 'block_size', 0) !== 0) throw new UnsupportedOpError(node.op, node.name, 'blocked quantization (block_size) is not supported; re-export with per-tensor or per-channel scales');
  if (scale.dtype !== 'float32' && scale.dtype !== 'float16' && scale.dtype !== 'float64') throw bad(`scale is ${scale.dtype}; it must be a float tensor`);
  let type: DType;
  if (node.op === 'DequantizeLinear') type = xType ?? zeroPoint?.dtype ?? 'uint8';
  else {
    const code = attrInt(node, 'output_dtype', 0);
    type = zeroPoint?.dtype ?? (code ? DTYPE_OF_ONNX_CODE[code] : 'uint8');
  }
  if (zeroPoint && zeroPoint.dtype !== type) throw bad(`zero point is ${zeroPoint.dtype} but the quantized values are ${type}`);
  if (!QUANT_RANGES[type] && !(node.op === 'DequantizeLinear' && type === 'int32')) {
    throw new UnsupportedOpError(node.op, node.name, `${type ?? 'this'} quantized values are not supported (uint8, int8, uint16, int16${node.op === 'DequantizeLinear' ? ', int32' : ''} are)`);
  }
  const scales = toFloat32(scale);
  const n = scales.length;
  let axis: number | undefined;
  if (scale.dims.length > 1) throw bad(`scale has dims [${scale.dims.join(', ')}]; it must be a scalar or 1-D (per-channel)`);
  if (n !== 1) {
    // per channel (a 1-D scale of one value counts as per tensor, as in onnxruntime)
    const a = attrInt(node, 'axis', 1);
    axis = a < 0 ? a + rank : a;
    if (axis < 0 || axis >= rank) throw bad(`axis ${a} is out of range for an input of rank ${rank}`);
    if (axisSize(axis) !== n) throw bad(`${n} scales for an axis of size ${axisSize(axis)}`);
  }
  for (const s of scales) if (!Number.isFinite(s) || s === 0) throw bad(`scale ${s}: scales must be finite and non-zero`);
  let zeroPoints = new Array<number>(n).fill(0);
  if (zeroPoint) {
    if (numel(zeroPoint.dims) !== n || zeroPoint.dims.length > 1) throw bad(`zero point has dims [${zeroPoint.dims.join(', ')}] but scale has [${scale.dims.join(', ')}]`);
    zeroPoints = toNumbers(zeroPoint);
  }
  return { axis, scales, zeroPoints, type };
}

/** Rounds to the nearest integer, halves to even (C's nearbyint, wasm's f32x4.nearest). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v); // halves up
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** QuantizeLinear of one float32 value (x, scale float32), in onnxruntime's order: x / scale, rounded, + zero point, clamped. */
export function quantizeValue(x: number, scale: number, zeroPoint: number, lo: number, hi: number): number {
  const q = roundHalfEven(Math.fround(x / scale)) + zeroPoint;
  return q < lo ? lo : q > hi ? hi : q;
}

/** DequantizeLinear of one value: (x - zero point) as float32, times the scale, rounded to float32. */
export function dequantizeValue(x: number, scale: number, zeroPoint: number): number {
  return Math.fround(Math.fround(x - zeroPoint) * scale);
}

/** For each element of a tensor of `dims`, the index of its scale (0 when per tensor). */
export function channelOf(dims: readonly number[], axis: number | undefined): (i: number) => number {
  if (axis === undefined) return () => 0;
  const inner = numel(dims.slice(axis + 1));
  const C = dims[axis];
  return (i) => Math.floor(i / inner) % C;
}
