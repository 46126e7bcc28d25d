// Budgets for `fit`: what the user limits, parsed from the strings people write.
//
// Sizes: a number of bytes, or a number with a unit. SI prefixes are powers of 1000 and the IEC
// ones (KiB, MiB, GiB) powers of 1024, as everywhere else in edgeprune's output (397.6 kB):
//     B = 1   kB = 1000   MB = 1000²   GB = 1000³   KiB = 1024   MiB = 1024²   GiB = 1024³
// and KB (capital K, which is not an SI prefix) = 1024, as JEDEC and common usage have it. Lower-case
// b (bits) is refused rather than guessed. Latency: ms by default, or us/µs, ms, s. FLOPs: a
// number, optionally with k, M, G or T (powers of 1000) and an optional FLOP/FLOPs suffix.
import { ArgumentError } from '../errors.js';

/** The limits `fit` must meet, in base units. At least one is required. */
export interface Budgets {
  /** Bytes of the written model file (.epm or .onnx). */
  maxBytes?: number;
  /** Peak memory of a session at batch 1: the planned activation arena plus the packed weights. */
  maxMemoryBytes?: number;
  /** Median latency of one inference at batch 1 on this runtime, in milliseconds. */
  maxLatencyMs?: number;
  /** FLOPs of one inference at batch 1 as session.info().flops counts them (the dense work of the remaining structure). */
  maxFlops?: number;
}

/** Budgets as given by a user: numbers, or strings with units ('300kB', '5ms', '12M'). */
export interface BudgetInput {
  maxSize?: number | string;
  maxMemory?: number | string;
  maxLatency?: number | string;
  maxFlops?: number | string;
}

export type BudgetKind = 'size' | 'memory' | 'latency' | 'flops';
export const BUDGET_KINDS: readonly BudgetKind[] = ['size', 'memory', 'latency', 'flops'];

const SIZE_UNITS: Record<string, number> = {
  B: 1,
  kB: 1e3, KB: 1024, KiB: 1024,
  MB: 1e6, MiB: 1024 ** 2,
  GB: 1e9, GiB: 1024 ** 3,
};

const NUMBER = String.raw`([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?`;

function split(text: string, what: string): { value: number; unit: string } {
  const m = new RegExp(String.raw`^\s*(${NUMBER})\s*([A-Za-zµ]*)\s*$`).exec(text);
  if (!m) throw new ArgumentError(`${what} '${text}' is not a number with an optional unit`);
  return { value: Number(m[1]), unit: m[3] };
}

function positive(v: number, text: string, what: string): number {
  if (!Number.isFinite(v) || v <= 0) throw new ArgumentError(`${what} must be a positive number, got '${text}'`);
  return v;
}

/** '300kB' → 300000, '1.5MiB' → 1572864, '4096' → 4096 (see the unit table at the top of this file). */
export function parseSize(input: number | string): number {
  if (typeof input === 'number') return Math.floor(positive(input, String(input), 'a size'));
  const { value, unit } = split(input, 'size');
  const scale = unit === '' ? 1 : SIZE_UNITS[unit];
  if (scale === undefined) {
    const hint = /b$/.test(unit) && SIZE_UNITS[unit.slice(0, -1) + 'B'] ? ` (lower-case b means bits; write ${value}${unit.slice(0, -1)}B for bytes)` : '';
    throw new ArgumentError(`size '${input}' has an unknown unit '${unit}'${hint}; use B, kB (1000), KB or KiB (1024), MB, MiB, GB or GiB`);
  }
  return Math.floor(positive(value * scale, input, 'a size'));
}

/** '5ms' → 5, '500us' → 0.5, '0.2s' → 200, '3' → 3 (milliseconds). */
export function parseLatency(input: number | string): number {
  if (typeof input === 'number') return positive(input, String(input), 'a latency');
  const { value, unit } = split(input, 'latency');
  const scale: Record<string, number> = { '': 1, ms: 1, us: 1e-3, 'µs': 1e-3, s: 1e3 };
  if (scale[unit] === undefined) throw new ArgumentError(`latency '${input}' has an unknown unit '${unit}'; use us, ms or s (a bare number is milliseconds)`);
  return positive(value * scale[unit], input, 'a latency');
}

/** '12M' → 12e6, '1.5 GFLOPs' → 1.5e9, 3000 → 3000. */
export function parseFlops(input: number | string): number {
  if (typeof input === 'number') return positive(input, String(input), 'a FLOP count');
  const { value, unit } = split(input, 'FLOP count');
  const m = /^([kKMGT]?)(FLOPs?|flops?)?$/.exec(unit);
  if (!m) throw new ArgumentError(`FLOP count '${input}' has an unknown unit '${unit}'; use a number with k, M, G or T (e.g. 12M or 1.5GFLOP)`);
  const scale: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Math.round(positive(value * scale[m[1]], input, 'a FLOP count'));
}

/** Parses and checks user budgets; at least one is required. */
export function parseBudgets(input: BudgetInput | Budgets): Budgets {
  if (input === null || typeof input !== 'object') throw new ArgumentError('fit needs budgets: an object such as { maxSize: "300kB" }');
  const b = input as BudgetInput & Budgets;
  // a misspelt key ({ maxMemry: ... }) would otherwise be a budget silently not applied
  const known = ['maxSize', 'maxBytes', 'maxMemory', 'maxMemoryBytes', 'maxLatency', 'maxLatencyMs', 'maxFlops'];
  const unknown = Object.keys(b).filter((key) => !known.includes(key));
  if (unknown.length) throw new ArgumentError(`unknown budget${unknown.length > 1 ? 's' : ''} ${unknown.map((key) => `'${key}'`).join(', ')}; the budgets are maxSize, maxMemory, maxLatency and maxFlops`);
  const out: Budgets = {};
  const size = b.maxSize ?? b.maxBytes;
  const memory = b.maxMemory ?? b.maxMemoryBytes;
  const latency = b.maxLatency ?? b.maxLatencyMs;
  if (size !== undefined) out.maxBytes = parseSize(size);
  if (memory !== undefined) out.maxMemoryBytes = parseSize(memory);
  if (latency !== undefined) out.maxLatencyMs = parseLatency(latency);
  if (b.maxFlops !== undefined) out.maxFlops = parseFlops(b.maxFlops);
  if (Object.keys(out).length === 0) throw new ArgumentError('fit needs at least one budget: maxSize (file bytes, e.g. "300kB"), maxMemory (peak memory, e.g. "4MB"), maxLatency (e.g. "5ms") or maxFlops (e.g. "12M")');
  return out;
}

/** The limit of one kind, if given. */
export function limitOf(b: Budgets, kind: BudgetKind): number | undefined {
  switch (kind) {
    case 'size':
      return b.maxBytes;
    case 'memory':
      return b.maxMemoryBytes;
    case 'latency':
      return b.maxLatencyMs;
    case 'flops':
      return b.maxFlops;
  }
}

/** A value of one kind for people: bytes as "297,500 bytes", latency in ms, FLOPs with SI prefixes. */
export function formatBudget(kind: BudgetKind, v: number): string {
  switch (kind) {
    case 'size':
    case 'memory':
      return `${Math.round(v).toLocaleString('en-US')} bytes`;
    case 'latency':
      return `${v.toFixed(3)} ms`;
    case 'flops':
      return `${Math.round(v).toLocaleString('en-US')} FLOPs`;
  }
}
