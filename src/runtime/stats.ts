// Model statistics taken from the graph as imported (before any folding), i.e. what the user's
// framework would report: parameters are the float initializers' elements.
import type { Graph } from '../graph/ir.js';

export interface ModelStats {
  params: number;
  nonZeroParams: number;
  /** Operator counts of the imported graph, Constant nodes excluded. */
  opCounts: Record<string, number>;
  opset: number;
  producer: string;
}

export function modelStats(g: Graph): ModelStats {
  let params = 0;
  let nonZero = 0;
  for (const t of g.initializers.values()) {
    if (!(t.data instanceof Float32Array || t.data instanceof Float64Array)) continue;
    params += t.data.length;
    for (let i = 0; i < t.data.length; i++) if (t.data[i] !== 0) nonZero++;
  }
  const opCounts: Record<string, number> = {};
  for (const n of g.nodes) opCounts[n.op] = (opCounts[n.op] ?? 0) + 1;
  return { params, nonZeroParams: nonZero, opCounts, opset: g.opset, producer: g.producer ? `${g.producer.name} ${g.producer.version}`.trim() : '' };
}
