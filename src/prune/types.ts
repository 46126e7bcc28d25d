// Shared vocabulary of the pruning methods: what a method returns, and how it reports.

import type { Graph } from '../graph/ir.js';

/** Which layers a method may touch: node names (exact) to include or exclude. */
export interface LayerFilter {
  /** Only these nodes (default: every prunable layer). */
  include?: readonly string[];
  /** Never these nodes. */
  exclude?: readonly string[];
}

/** One layer's weights before and after. */
export interface LayerPruneReport {
  node: string;
  op: string;
  /** Weight tensor elements / non-zeros before and after. */
  paramsBefore: number;
  paramsAfter: number;
  nonZeroBefore: number;
  nonZeroAfter: number;
  /** Output channels (structured pruning), before and after. */
  channelsBefore?: number;
  channelsAfter?: number;
}

export interface PruneReport {
  method: string;
  layers: LayerPruneReport[];
  /** Layers or groups left alone, and why (never cut when safety cannot be proven). */
  skipped: { node: string; reason: string }[];
}

export interface PruneResult {
  graph: Graph;
  report: PruneReport;
}
