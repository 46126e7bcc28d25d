// Timing protocol shared by the benchmarks: every implementation of a case runs in the same
// process, interleaved round by round (so drift, throttling and GC hit all of them alike), and
// the median of the rounds is reported. Wall-clock numbers live here only, never in tests.

export interface Impl {
  name: string;
  /** One call of the operation under test, inputs in, outputs out. */
  run: () => void | Promise<void>;
}

export interface CaseResult {
  name: string;
  flops: number;
  medians: Map<string, number>; // seconds per call
  /** ratio[a][b]: median over rounds of time(b) / time(a), i.e. how many times faster a is than b. */
  ratios: Map<string, Map<string, number>>;
}

/** Calls per round so that one round of one implementation takes about `targetMs`. */
async function callsPerRound(impl: Impl, targetMs: number): Promise<number> {
  let n = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await impl.run();
    const dt = performance.now() - t0;
    if (dt >= targetMs / 4 || n >= 1 << 16) return Math.max(1, Math.round((n * targetMs) / Math.max(dt, 1e-3)));
    n *= 2;
  }
}

const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1500);
const SETTLE_MS = 500;

export async function measure(name: string, flops: number, impls: Impl[], rounds = 15, targetMs = 25): Promise<CaseResult> {
  const calls = new Map<string, number>();
  for (const impl of impls) {
    await impl.run(); // first call: lazy initialisation
    calls.set(impl.name, await callsPerRound(impl, targetMs));
  }
  // Warm-up rounds, not timed: V8 keeps compiling hot wasm functions with its optimising tier on
  // background threads for a while (onnxruntime-web's 14 MB module for longer than ours), and on
  // 2 cores that work competes with whatever runs in the foreground.
  const warmEnd = performance.now() + WARMUP_MS;
  while (performance.now() < warmEnd) {
    for (const impl of impls) {
      const n = calls.get(impl.name)!;
      for (let i = 0; i < n; i++) await impl.run();
    }
  }
  // then let the queued background compilation finish before the first timed round
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const samples = new Map<string, number[]>(impls.map((i) => [i.name, []]));
  for (let r = 0; r < rounds; r++) {
    // rotate the order every round so no implementation always runs first
    const order = impls.map((_, i) => impls[(i + r) % impls.length]);
    for (const impl of order) {
      const n = calls.get(impl.name)!;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await impl.run();
      samples.get(impl.name)!.push((performance.now() - t0) / 1000 / n);
    }
  }
  // BENCH_STAT=best reports the fastest round instead (kernel tuning on a noisy machine); the
  // published table always uses medians.
  const stat = process.env.BENCH_STAT === 'best' ? (v: number[]) => Math.min(...v) : median;
  const medians = new Map<string, number>();
  for (const [k, v] of samples) medians.set(k, stat(v));
  // Ratios are taken within each round (the implementations ran back to back, under the same
  // machine conditions), then the median over rounds: this cancels most of a shared VM's noise.
  const ratios = new Map<string, Map<string, number>>();
  for (const a of impls) {
    const row = new Map<string, number>();
    for (const b of impls) {
      const sa = samples.get(a.name)!;
      const sb = samples.get(b.name)!;
      row.set(b.name, median(sa.map((t, i) => sb[i] / t)));
    }
    ratios.set(a.name, row);
  }
  return { name, flops, medians, ratios };
}

export function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Prints median GFLOP/s per implementation and the median per-round speed-up of ours over each peer. */
export function printTable(results: CaseResult[], ours: string[], peers: string[]): void {
  const names = [...ours, ...peers];
  const head = ['case', ...names.map((n) => `${n} GFLOP/s`), ...ours.flatMap((o) => peers.map((p) => `${o}/${p}`))];
  const rows = results.map((r) => {
    const g = (n: string) => (r.medians.has(n) ? r.flops / r.medians.get(n)! / 1e9 : NaN);
    const ratio = (o: string, p: string) => r.ratios.get(o)?.get(p);
    return [r.name, ...names.map((n) => g(n).toFixed(1)), ...ours.flatMap((o) => peers.map((p) => `${ratio(o, p)?.toFixed(2) ?? '-'}x`))];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}
