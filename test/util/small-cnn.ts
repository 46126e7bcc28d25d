// A small CNN with a symbolic batch, shared by the session tests: Conv(1→4, 3x3, pad 1) → Relu →
// MaxPool 2 → Flatten → Gemm(64→5). Outputs: 'y' (the logits), and 'p' (the pooled features) when asked.
import { buildModel } from './onnx-build.js';
import { randomArray } from './rng.js';

export function smallCnn(outputs: readonly string[] = ['y']): Uint8Array {
  return buildModel({
    nodes: [
      { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { op: 'Relu', inputs: ['c'], outputs: ['r'] },
      { op: 'MaxPool', inputs: ['r'], outputs: ['p'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: 'Flatten', inputs: ['p'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'fw', 'fb'], outputs: ['y'], attrs: { transB: 1 } },
    ],
    inputs: [{ name: 'x', dims: ['N', 1, 8, 8] }],
    outputs: [...outputs],
    initializers: [
      { name: 'w', dims: [4, 1, 3, 3], data: randomArray(36, 1) },
      { name: 'b', dims: [4], data: randomArray(4, 2) },
      { name: 'fw', dims: [5, 64], data: randomArray(320, 3, -0.3, 0.3) },
      { name: 'fb', dims: [5], data: randomArray(5, 4) },
    ],
  });
}
