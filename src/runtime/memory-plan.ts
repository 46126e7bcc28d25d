// Static memory plan: every run-time tensor gets a fixed offset in one arena, chosen from the
// tensors' lifetimes so that tensors alive at the same time never overlap. The arena size is
// the session's peak activation memory, known before the first run.

export interface BufferRequest {
  /** Bytes the buffer must hold. */
  bytes: number;
  /** First step that writes it (-1: before the first step, e.g. graph inputs). */
  from: number;
  /** Last step that reads it (Infinity: a graph output, read after the last step). */
  to: number;
}

export interface MemoryPlan {
  offsets: number[];
  /** Arena bytes: the end of the highest buffer plus SLACK. */
  bytes: number;
}

const ALIGN = 64;
/** Kernels may read up to 36 bytes past a tensor's end (never write; the stride-2 depthwise tail): keep 64 bytes of slack. */
export const SLACK = 64;

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/**
 * Greedy by size (largest first), each buffer at the lowest aligned offset that does not collide
 * with an already placed buffer whose lifetime overlaps: simple, and within a few percent of
 * optimal on CNN chains (the classic "greedy by size" of TFLite's arena planner).
 */
export function planMemory(requests: readonly BufferRequest[]): MemoryPlan {
  const order = requests.map((_, i) => i).sort((a, b) => requests[b].bytes - requests[a].bytes || a - b);
  const offsets = new Array<number>(requests.length).fill(0);
  const placed: { start: number; end: number; from: number; to: number }[] = [];
  let top = 0;
  // indexed loops, no closure per pair of buffers: the pass is quadratic in the buffers and runs in
  // V8's interpreter on a cold start (~2 ms of PaddleOCR's classifier's first run with filter())
  for (let o = 0; o < order.length; o++) {
    const i = order[o];
    const r = requests[i];
    const size = align(Math.max(r.bytes, 1));
    // intervals taken by buffers alive at the same time, by address
    const busy: typeof placed = [];
    for (let j = 0; j < placed.length; j++) {
      const p = placed[j];
      if (p.from <= r.to && r.from <= p.to) busy.push(p);
    }
    busy.sort((a, b) => a.start - b.start);
    let offset = 0;
    for (let j = 0; j < busy.length; j++) {
      const b = busy[j];
      if (offset + size <= b.start) break;
      offset = Math.max(offset, b.end);
    }
    offsets[i] = offset;
    placed.push({ start: offset, end: offset + size, from: r.from, to: r.to });
    top = Math.max(top, offset + size);
  }
  return { offsets, bytes: requests.length ? top + SLACK : 0 };
}
