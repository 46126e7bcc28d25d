// fit(graph, budgets, options): prune a model until it meets size / peak-memory / latency / FLOP
// budgets, with the least predicted damage, recover accuracy from calibration data, and prove the
// budgets on the real result.
//
//   1. analyse: channel groups (dependency graph), layers with weights, sizes (analysis.ts)
//   2. measure the dense model written in the target format; check the most aggressive allowed
//      plan first: if even it misses a budget, BudgetError with the smallest reachable value
//   3. sensitivity of every unit on calibration data (sensitivity.ts)
//   4. solve: Lagrangian greedy over predicted damage and predicted resources (solver.ts)
//   5. verify on the written bytes and a real session; when a measurement misses, fold
//      measured/predicted into the predictions and continue the greedy from there
//   6. the final model with recovery (least-squares reconstruction or bias compensation),
//      optional fine-tuning, int8; measured again: the budgets hold on what is returned.
//   With `elastic`, what is written and measured is the elastic artifact (elastic.ts) of each
//   plan's model: the size budget holds for the whole file, memory and latency for its widest
//   width (the fitted model); every width's memory (and accuracy) is recorded in the file.
import { attrInt } from '../graph/attrs.js';
import { ArgumentError, BudgetError } from '../errors.js';
import type { Graph } from '../graph/ir.js';
import { numel } from '../graph/tensor.js';
import { writeArtifact } from '../format/write.js';
import { planTensor } from '../format/tensor-encode.js';
import { ENCODING_NAMES } from '../format/layout.js';
import { exportOnnx } from '../onnx/export.js';
import { InferenceSession } from '../runtime/session.js';
import { Tensor } from '../runtime/tensor.js';
import type { Dataset } from '../train/data.js';
import { accuracy, medianLatencyMs } from '../train/evaluate.js';
import { writeElasticArtifact } from '../format/write-elastic.js';
import { elasticSpec, measureElastic, type ElasticLevel } from './elastic.js';
import { prunableWeights } from '../train/sparse-training.js';
import { Trainer } from '../train/trainer.js';
import { loadKernels, type WasmSource } from '../wasm/loader.js';
import { analyse, effectiveSparsity } from './analysis.js';
import { applyInt8, densePlan, extremePlan, samePlan, type Plan } from './apply.js';
import { BUDGET_KINDS, formatBudget, limitOf, parseBudgets, type BudgetInput, type BudgetKind, type Budgets } from './budget.js';
import { Scorer, type Fidelity } from './fidelity.js';
import { materialize, type FitContext } from './materialize.js';
import { Predictor, type DenseMeasure, type Resources } from './predict.js';
import type { Recovery } from './reconstruct.js';
import { CalibRunner, type CalibrationData } from './runner.js';
import { measureSensitivity, planDamage, type Sensitivity } from './sensitivity.js';
import { relax, solve, violated, type Targets } from './solver.js';

export interface FitFinetune {
  /** Labelled training data. */
  data: Dataset;
  epochs: number;
  /** Adam learning rate (default 5e-4). */
  lr?: number;
  batch?: number;
  seed?: number;
  onStep?: (epoch: number, step: number, steps: number, loss: number) => void;
}

export interface FitToBudgetOptions {
  /** Calibration samples (no labels needed; with labels, sensitivity is the loss increase). */
  calibration: CalibrationData;
  /** What gets written and measured: the .epm artifact (default; sparse and int8 storage count) or ONNX (dense floats: only removed channels shrink it). */
  format?: 'epm' | 'onnx';
  /** Accuracy recovery without training (default 'reconstruct'). */
  recovery?: Recovery;
  /** Allowed methods (default all): remove channels, unstructured sparsity, int8 storage. */
  channels?: boolean;
  sparsity?: boolean;
  int8?: boolean;
  /** Channel removal ratios tried per group (default 0.25, 0.5, 0.75, 0.9). */
  channelRatios?: readonly number[];
  /** Sparsity levels tried per layer (default 0.25, 0.5, 0.75, 0.9). */
  sparsities?: readonly number[];
  /** Kept channel counts are multiples of this (default 4, the SIMD width). */
  roundTo?: number;
  /** Node names to leave alone. */
  exclude?: readonly string[];
  /** Calibration samples the sensitivity measurements use (default: 256, fewer for models over ~16 MFLOP, at least 64). */
  sensitivitySamples?: number;
  /** Least squares for layers with at most this many input features (default 3200); wider ones get bias compensation. */
  maxFeatures?: number;
  /** Calibration batch (default 32). */
  batch?: number;
  /** Also build the same plan without recovery (plain magnitude pruning) and report its fidelity (default true). */
  compare?: boolean;
  /** Fine-tune after pruning (pruned weights stay zero), before int8. */
  finetune?: FitFinetune;
  /** Labelled data for reporting accuracy before and after (e.g. a test set). */
  evaluate?: Dataset;
  /** Runs per latency measurement (default 40, after 5 warm-up runs). */
  latencyRuns?: number;
  /** Verification rounds before giving up (default 8). */
  maxRounds?: number;
  /**
   * Write an elastic .epm (elastic.ts): the fitted model's channel groups in importance order, so
   * that InferenceSession.create(bytes, { memoryBudget }) or ({ width }) loads a narrower width
   * from a prefix of the file. `widths` defaults to 100%, 87.5%, ..., 25%. int8 storage is off.
   */
  elastic?: boolean | { widths?: readonly number[] };
  wasm?: WasmSource;
  onProgress?: (text: string) => void;
  onWarning?: (text: string) => void;
}

export interface Measured extends Resources {
  arenaBytes: number;
  weightBytes: number;
  params: number;
  nonZeroParams: number;
}

export interface FitLayerReport {
  name: string;
  op: string;
  outBefore: number;
  outAfter: number;
  inBefore: number;
  inAfter: number;
  /** Share of zero weights in the result. */
  sparsity: number;
  int8: boolean;
  /** How the weight is stored: the .epm encoding ('raw', 'bitmask', 'int8-delta16', ...) or 'onnx-f32'. */
  storage: string;
  bytes: number;
  bytesBefore: number;
  flops: number;
  flopsBefore: number;
  /** Predicted damage of this layer's choices (its channel group's level, its sparsity, int8). */
  sensitivity: number;
}

export interface FitResult {
  graph: Graph;
  /** The written model: its length is the size the budget was checked against. */
  bytes: Uint8Array;
  format: 'epm' | 'onnx';
  budgets: Budgets;
  /** The dense model (simplified: BatchNorm folded) written in the same format, and the result. */
  dense: Measured;
  measured: Measured;
  plan: { groups: { label: string; total: number; keep: number; ratio: number }[]; layers: { name: string; sparsity: number; int8: boolean }[] };
  layers: FitLayerReport[];
  /** On the calibration samples: the dense model, the result, and (compare) the same plan without recovery. */
  fidelity: { dense: Fidelity; fitted: Fidelity; magnitude?: Fidelity };
  /** On options.evaluate: accuracy of the dense model, the result, the same plan without recovery, and before fine-tuning. */
  accuracy?: { dense: number; fitted: number; magnitude?: number; beforeFinetune?: number };
  predictedDamage: number;
  sensitivity: {
    groups: { label: string; total: number; levels: { ratio: number; keep: number; damage: number }[] }[];
    layers: { name: string; levels: { sparsity: number; damage: number }[]; int8?: number }[];
  };
  /** The solver's path to the most aggressive plan (predicted bytes and damage), and the chosen point. */
  frontier: { bytes: number; damage: number }[];
  /** The result: its bytes, predicted damage, and the damage measured on the calibration samples (with recovery, and the same plan without). */
  chosen: { bytes: number; damage: number; measured: number; magnitude?: number };
  reconstructions: FitContext['reconstructions'];
  /** The recovery in the result: 'none' when the one asked for left the outputs further from the dense model's (see warnings). */
  recovery: Recovery;
  rounds: number;
  warnings: string[];
  seconds: number;
  /** With options.elastic: every width in the written file, widest first (as session.info().elastic.levels). */
  elastic?: { levels: ElasticLevel[] };
}

const DEFAULT_RATIOS = [0.25, 0.5, 0.75, 0.9];

function limits(b: Budgets): Targets {
  const t: Targets = {};
  for (const k of BUDGET_KINDS) {
    const v = limitOf(b, k);
    if (v !== undefined) t[k] = v;
  }
  return t;
}

const FLAG: Record<BudgetKind, string> = { size: 'maxSize (--max-size)', memory: 'maxMemory (--max-memory)', latency: 'maxLatency (--max-latency)', flops: 'maxFlops (--max-flops)' };
const WHAT: Record<BudgetKind, string> = { size: 'file size', memory: 'peak memory', latency: 'latency', flops: 'FLOPs' };

function checkRatios(xs: readonly number[] | undefined, what: string): number[] {
  const v = [...(xs ?? DEFAULT_RATIOS)];
  if (!v.length || v.some((r) => typeof r !== 'number' || !(r > 0 && r < 1))) throw new ArgumentError(`${what} must be fractions in (0, 1), e.g. [0.25, 0.5, 0.75, 0.9]; got [${v.join(', ')}]`);
  return v.sort((a, b) => a - b);
}

export async function fit(graph: Graph, budgetInput: BudgetInput | Budgets, options: FitToBudgetOptions): Promise<FitResult> {
  const t0 = performance.now();
  const budgets = parseBudgets(budgetInput);
  if (!options || typeof options !== 'object' || !options.calibration) throw new ArgumentError('fit needs calibration data: options.calibration = { x: Float32Array, sampleDims: [...] } (a few hundred unlabelled samples)');
  const o = options;
  const format = o.format ?? 'epm';
  if (format !== 'epm' && format !== 'onnx') throw new ArgumentError(`format must be 'epm' or 'onnx', got '${String(format)}'`);
  const elastic = o.elastic ? (o.elastic === true ? {} : o.elastic) : undefined;
  if (elastic && format === 'onnx') throw new ArgumentError('an elastic model is an .epm artifact: write .epm (format: "epm") or drop elastic');
  const recovery = o.recovery ?? 'reconstruct';
  if (!['reconstruct', 'bias', 'none'].includes(recovery)) throw new ArgumentError(`recovery must be 'reconstruct', 'bias' or 'none', got '${String(recovery)}'`);
  const warnings: string[] = [];
  const warn = (s: string) => {
    warnings.push(s);
    o.onWarning?.(s);
  };
  const progress = (s: string) => o.onProgress?.(s);
  const k = await loadKernels(o.wasm ?? 'auto');
  const runner = new CalibRunner(graph, o.calibration, o.batch ?? 32);
  if (o.finetune) {
    const d = o.finetune.data;
    if (!d || d.sampleDims.join() !== runner.sampleDims.join()) throw new ArgumentError(`fine-tuning data has samples of [${d?.sampleDims.join(', ')}] but the model takes [${runner.sampleDims.join(', ')}]`);
    if (!Number.isInteger(o.finetune.epochs) || o.finetune.epochs < 0) throw new ArgumentError(`fine-tuning epochs must be a non-negative integer, got ${o.finetune.epochs}`);
  }
  const channelRatios = checkRatios(o.channelRatios, 'channelRatios');
  const sparsities = checkRatios(o.sparsities, 'sparsities');
  const exclude = new Set(o.exclude ?? []);
  const unknown = [...exclude].filter((n) => !graph.nodes.some((x) => x.name === n));
  if (unknown.length) throw new ArgumentError(`exclude names ${unknown.map((n) => `'${n}'`).join(', ')}, not nodes of the model`);

  // sparsity and int8 only pay in .epm bytes and in time; for other budgets they would only cost
  // sensitivity measurements (the FLOP count is the dense structure's; ONNX stores dense floats)
  const weightsPay = (format === 'epm' && budgets.maxBytes !== undefined) || budgets.maxLatencyMs !== undefined;
  progress('analysing the model');
  const a = analyse(graph, {
    inputDims: runner.analysisDims(),
    channelRatios,
    sparsities,
    roundTo: o.roundTo ?? 4,
    maxChannelRatio: Math.max(...channelRatios),
    exclude,
    channels: o.channels ?? true,
    sparse: (o.sparsity ?? true) && weightsPay,
    int8: (o.int8 ?? true) && weightsPay && !elastic,
  });
  if (!a.groups.length && !a.layers.some((l) => l.sparsity.length > 1 || l.int8)) throw new ArgumentError('fit found nothing it may prune in this model (no channel group, no layer with weights); check exclude and the allowed methods');
  if (runner.n < 16) warn(`only ${runner.n} calibration samples: sensitivities and reconstructions will be noisy; a few hundred are typical`);

  const ctx: FitContext = { k, a, runner, recovery, maxFeatures: o.maxFeatures ?? 3200, scores: new Map(), alphas: new Map(), denseMeans: new Map(), reconstructions: [], warn, progress };
  const elasticOf = (g: Graph) => writeElasticArtifact(elasticSpec(k, g, { widths: elastic?.widths, exclude: [...exclude], inputDims: runner.analysisDims() }));
  const write = (g: Graph) => (format === 'onnx' ? exportOnnx(g) : elastic ? elasticOf(g) : writeArtifact(g));
  const needLatency = budgets.maxLatencyMs !== undefined;
  const measure = (bytes: Uint8Array, latency = needLatency) => measureBytes(bytes, runner, latency, o.latencyRuns ?? 40);

  progress('measuring the dense model');
  const denseBytes = write(a.base);
  const dense = await measure(denseBytes, true);
  // samples per measurement: enough for stable numbers, few enough that a 100 MFLOP model's
  // sensitivity pass stays near a second (each sample costs the model's FLOPs)
  const perSample = dense.flops / (runner.fixedBatch ? runner.batch : 1);
  const clamp = (v: number, lo: number, hi: number) => Math.max(Math.min(lo, runner.n), Math.min(hi, runner.n, v));
  const sensSamples = o.sensitivitySamples !== undefined ? Math.min(runner.n, o.sensitivitySamples) : clamp(Math.round(4e9 / perSample), 64, 256);
  const scorer = new Scorer(runner, sensSamples, clamp(Math.round(3e10 / perSample), 128, runner.n));
  await scorer.init(a.base, a.dep.dims);
  const targets = limits(budgets);
  const kinds = Object.keys(targets) as BudgetKind[];
  const predictor = new Predictor(a, format, { bytes: denseBytes.length, arenaBytes: dense.arenaBytes, weightBytes: dense.weightBytes, latencyMs: dense.latency, flops: dense.flops, nodeFlops: dense.nodeFlops } satisfies DenseMeasure);

  // the most aggressive allowed plan: if it misses a budget, nothing will meet it
  const extreme = extremePlan(a);
  const denseOk = unmet(dense, targets).length === 0;
  if (!denseOk) {
    progress('checking the most aggressive allowed plan');
    const m = await measure(write(await materialize(ctx, extreme, 'none')));
    const bad = unmet(m, targets);
    if (bad.length) throw budgetError(bad, m, targets, a, o);
  }

  let sens: Sensitivity = { group: a.groups.map((g) => g.levels.map(() => 0)), sparsity: a.layers.map((l) => l.sparsity.map(() => 0)), int8: a.layers.map(() => 0) };
  let plan: Plan = densePlan(a);
  let rounds = 0;
  let magnitudeGraph: Graph | undefined;
  let frontier: { bytes: number; damage: number }[] = [];
  const damageOf = (p: Plan) => planDamage(sens, p);
  // a measurement missed a budget: fold measured/predicted into the predictions and take more
  // steps (bumping the correction when the corrected predictions already look met)
  const tighten = (from: Plan, m: Measured, bad: BudgetKind[]): Plan => {
    predictor.calibrate(from, m, bad);
    for (let bump = 0; bump < 60; bump++) {
      const next = solve(a, sens, predictor, targets, from, damageOf).plan;
      if (!samePlan(next, from)) return next;
      for (const kind of bad) predictor.correction[kind] *= 1.05;
    }
    throw budgetError(bad, m, targets, a, o, 'no further pruning step changes the predictions');
  };
  if (!denseOk) {
    sens = await measureSensitivity(ctx, scorer);
    frontier = solve(a, sens, predictor, { size: 0 }, densePlan(a), damageOf, true).path.map((s) => ({ bytes: s.resources.size, damage: s.damage }));
    progress('solving');
    plan = solve(a, sens, predictor, targets, densePlan(a), damageOf).plan;
    // verify on the real bytes without recovery first (recovery changes values, not sizes), then with
    let m: Measured;
    for (;;) {
      if (++rounds > (o.maxRounds ?? 8)) throw budgetError(kinds, await measure(write(await materialize(ctx, plan, 'none'))), targets, a, o, 'the predictions did not converge');
      progress(`verifying plan (round ${rounds})`);
      magnitudeGraph = await materialize(ctx, plan, 'none');
      m = await measure(write(magnitudeGraph));
      const bad = unmet(m, targets);
      if (!bad.length) break;
      plan = tighten(plan, m, bad);
    }
    // the predictions may be pessimistic (memory is modelled conservatively): with the measured
    // values folded in, walk units back while the budgets stay met, and keep what verifies
    for (let loosen = 0; loosen < 3; loosen++) {
      predictor.calibrate(plan, m, kinds);
      const relaxed = relax(a, sens, predictor, targets, plan);
      if (samePlan(relaxed, plan)) break;
      progress('verifying a less aggressive plan');
      const g = await materialize(ctx, relaxed, 'none');
      const mr = await measure(write(g));
      const bad = unmet(mr, targets);
      if (bad.length) {
        predictor.calibrate(relaxed, mr, bad);
        break;
      }
      plan = relaxed;
      magnitudeGraph = g;
      m = mr;
    }
  }

  // the final model, with recovery and fine-tuning
  const finetune = o.finetune && o.finetune.epochs > 0 ? finetuner(o.finetune, progress) : undefined;
  let graphOut: Graph;
  let bytes: Uint8Array;
  let measured: Measured & { nodeFlops: Map<string, number> };
  let beforeFinetune: Graph | undefined;
  for (;;) {
    progress(recovery === 'none' ? 'writing the result' : `recovering accuracy (${recovery})`);
    ctx.reconstructions.length = 0;
    graphOut = await materialize(ctx, plan, recovery, finetune ? async (g) => {
      beforeFinetune = g;
      // fine-tuning keeps the shapes and the zeros: when what recovery added (a bias) already
      // breaks the size budget, the epochs would be spent on a plan about to be tightened, so skip
      // them (the same bytes miss the budget below, and the loop tightens the plan)
      if (targets.size !== undefined && write(applyInt8(g, a, plan)).length > targets.size) return g;
      return finetune(g);
    } : undefined);
    bytes = write(graphOut);
    measured = await measure(bytes, true);
    const bad = unmet(measured, targets);
    if (!bad.length) break;
    // a fitted bias or timing noise pushed it over: tighten and take one more step; at the end of
    // the road, the plan without recovery (verified above) is what meets the budgets
    if (++rounds > (o.maxRounds ?? 8) || samePlan(plan, extreme)) {
      if (recovery === 'none' || finetune) throw budgetError(bad, measured, targets, a, o);
      const plain = magnitudeGraph ?? (await materialize(ctx, plan, 'none'));
      const plainBytes = write(plain);
      const m = await measure(plainBytes, true);
      if (unmet(m, targets).length) throw budgetError(unmet(m, targets), m, targets, a, o);
      warn(`the recovered model misses the ${bad.map((k) => WHAT[k]).join(' and ')} budget by what recovery adds (${bad.map((k) => formatBudget(k, measured[k])).join(', ')}); returning the same plan without recovery`);
      graphOut = plain;
      bytes = plainBytes;
      measured = m;
      ctx.reconstructions.length = 0;
      break;
    }
    plan = tighten(plan, measured, bad);
    magnitudeGraph = undefined;
  }

  progress('measuring fidelity');
  let fitted = await scorer.measure(graphOut);
  let magnitude: Fidelity | undefined;
  let recoveryUsed: Recovery = recovery;
  const compare = (o.compare ?? true) && recovery !== 'none' && !samePlan(plan, densePlan(a));
  if (compare) {
    magnitudeGraph ??= await materialize(ctx, plan, 'none');
    magnitude = await scorer.measure(magnitudeGraph);
    // recovery is fitted to the calibration data and can still miss (a refit that generalises
    // badly, a bias that overshoots): never return a model it made worse than the same plan
    // without it, when that one meets the budgets too (fine-tuning is judged by its own epochs)
    const dense = scorer.denseFidelity();
    if (!finetune && damageMeasured(magnitude, dense) < damageMeasured(fitted, dense)) {
      const plainBytes = write(magnitudeGraph);
      const m = await measure(plainBytes, true);
      if (!unmet(m, targets).length) {
        warn(`recovery (${recovery}) left the calibration outputs further from the dense model's than the same plan without it (damage ${damageMeasured(fitted, dense).toPrecision(3)} against ${damageMeasured(magnitude, dense).toPrecision(3)}); returning the plan without recovery`);
        graphOut = magnitudeGraph;
        bytes = plainBytes;
        measured = m;
        fitted = magnitude;
        recoveryUsed = 'none';
        ctx.reconstructions.length = 0;
      }
    }
  }
  let acc: FitResult['accuracy'];
  if (o.evaluate) {
    progress('evaluating accuracy');
    acc = {
      dense: await accuracyOf(a.base, o.evaluate, runner),
      fitted: await accuracyOf(graphOut, o.evaluate, runner),
      ...(compare && magnitudeGraph ? { magnitude: await accuracyOf(magnitudeGraph, o.evaluate, runner) } : {}),
      ...(beforeFinetune ? { beforeFinetune: await accuracyOf(beforeFinetune, o.evaluate, runner) } : {}),
    };
  }
  let levels: ElasticLevel[] | undefined;
  if (elastic) {
    progress(`measuring every width${o.evaluate ? ' (and its accuracy)' : ''}`);
    // the same size: only the levels section's numbers change
    ({ bytes, levels } = await measureElastic(bytes, { freeDimensionOverrides: runner.overridesOne, evaluate: o.evaluate, evaluateOverrides: runner.overrides, evaluateBatch: runner.batch, wasm: o.wasm }));
    if (levels.length < 2) warn('the elastic model has one width: its channel groups are too small to narrow (they keep multiples of 4 channels); a larger budget keeps more channels to narrow');
  }
  const damage = planDamage(sens, plan);
  return {
    graph: graphOut,
    bytes,
    format,
    budgets,
    dense: strip(dense),
    measured: strip(measured),
    plan: {
      groups: a.groups.map((g) => ({ label: g.label, total: g.total, keep: g.levels[plan.group[g.index]].keep, ratio: g.levels[plan.group[g.index]].ratio })),
      layers: a.layers.map((l) => ({ name: l.name, sparsity: effectiveSparsity(l, plan), int8: plan.int8[l.index] })),
    },
    layers: layerReports(a, graphOut, plan, sens, format, dense, measured),
    fidelity: { dense: scorer.denseFidelity(), fitted, ...(magnitude ? { magnitude } : {}) },
    ...(acc ? { accuracy: acc } : {}),
    predictedDamage: damage,
    sensitivity: {
      groups: a.groups.map((g) => ({ label: g.label, total: g.total, levels: g.levels.map((lv, i) => ({ ratio: lv.ratio, keep: lv.keep, damage: sens.group[g.index][i] })) })),
      layers: a.layers.map((l) => ({ name: l.name, levels: l.sparsity.map((s, i) => ({ sparsity: s, damage: sens.sparsity[l.index][i] })), ...(l.int8 ? { int8: sens.int8[l.index] } : {}) })),
    },
    frontier,
    chosen: { bytes: bytes.length, damage, measured: damageMeasured(fitted, scorer.denseFidelity()), ...(magnitude ? { magnitude: damageMeasured(magnitude, scorer.denseFidelity()) } : {}) },
    reconstructions: [...ctx.reconstructions],
    recovery: recoveryUsed,
    rounds,
    warnings,
    seconds: (performance.now() - t0) / 1000,
    ...(levels ? { elastic: { levels } } : {}),
  };
}

/** The solver's damage, measured: loss increase with labels, squared relative output error without. */
function damageMeasured(f: Fidelity, dense: Fidelity): number {
  return f.loss !== undefined && dense.loss !== undefined ? f.loss - dense.loss : f.relError ** 2;
}

function strip(m: Measured & { nodeFlops?: unknown }): Measured {
  const { nodeFlops: _drop, ...rest } = m;
  return rest;
}

function unmet(m: Resources, targets: Targets): BudgetKind[] {
  return violated(m, targets);
}

/**
 * `why` set: m is the last plan verified, not the most aggressive one (which met the budgets when
 * it was checked): the search stopped short, and the message must not call m the smallest reachable.
 */
function budgetError(bad: BudgetKind[], m: Resources, targets: Targets, a: ReturnType<typeof analyse>, o: FitToBudgetOptions, why?: string): BudgetError {
  const allowed: string[] = [];
  if (a.groups.length) allowed.push(`${Math.round(100 * Math.max(...(o.channelRatios ?? DEFAULT_RATIOS)))}% of every channel group removed`);
  if (a.layers.some((l) => l.sparsity.length > 1)) allowed.push(`every layer ${Math.round(100 * Math.max(...(o.sparsities ?? DEFAULT_RATIOS)))}% sparse`);
  if (a.layers.some((l) => l.int8)) allowed.push('int8 weights');
  const parts = bad.map((k) => `${why ? `the last plan verified has a ${WHAT[k]} of` : `the smallest ${WHAT[k]} reachable is`} ${formatBudget(k, m[k])}, over ${FLAG[k]} ${formatBudget(k, targets[k]!)}`);
  const message = `cannot meet the budget${bad.length > 1 ? 's' : ''}${why ? ` (${why})` : ''}: ${parts.join('; ')} (with ${allowed.join(', ') || 'nothing prunable'}); raise the budget${o.format === 'onnx' ? ', write .epm (sparse and int8 storage count there)' : ''} or allow more pruning`;
  return new BudgetError(message, bad.map((k) => ({ budget: k, limit: targets[k]!, smallest: m[k] })));
}

async function measureBytes(bytes: Uint8Array, runner: CalibRunner, latency: boolean, runs: number): Promise<Measured & { nodeFlops: Map<string, number> }> {
  const s = await InferenceSession.create(bytes, { freeDimensionOverrides: runner.overridesOne });
  try {
    const info = s.info();
    const latencyMs = latency ? await medianLatencyMs(s, runner.sampleFeed(), runs, 5) : 0;
    return {
      size: bytes.length,
      memory: info.plannedPeakBytes + info.weightBytes,
      latency: latencyMs,
      flops: info.flops,
      arenaBytes: info.plannedPeakBytes,
      weightBytes: info.weightBytes,
      params: info.params,
      nonZeroParams: info.nonZeroParams,
      nodeFlops: new Map(info.nodes.map((n) => [n.name, n.flops])),
    };
  } finally {
    await s.release();
  }
}

async function accuracyOf(graph: Graph, data: Dataset, runner: CalibRunner): Promise<number> {
  const session = await InferenceSession.fromGraph(graph, { freeDimensionOverrides: runner.overrides });
  try {
    const r = await accuracy(session, data, (d, dims) => new Tensor('float32', d, dims), runner.batch);
    return r.accuracy;
  } finally {
    await session.release();
  }
}

function finetuner(f: FitFinetune, progress: (s: string) => void): (g: Graph) => Promise<Graph> {
  return async (g) => {
    // the trainer needs fixed sample dims: a model with free height and width (PaddleOCR's) trains
    // at the data's, and keeps its declared symbolic input dims in the result
    const input = g.inputs[0];
    const free = g.inputs.length === 1 && input.dims && input.dims.length === f.data.sampleDims.length + 1 && input.dims.slice(1).some((d) => typeof d === 'string');
    const trainable = free ? { ...g, inputs: [{ ...input, dims: [input.dims![0], ...f.data.sampleDims] }] } : g;
    const t = await Trainer.create(trainable, { optimizer: { kind: 'adam' }, seed: f.seed ?? 0 });
    try {
      t.optimizer.freezeZeros(prunableWeights(g));
      const batch = f.batch ?? 64;
      const steps = Math.ceil(f.data.n / batch);
      let last = -1;
      await t.fit(f.data, {
        epochs: f.epochs,
        batch,
        lr: f.lr ?? 5e-4,
        onStep: (s) => {
          f.onStep?.(s.epoch, s.step, s.steps, s.loss);
          const pct = Math.floor((100 * (s.epoch * steps + s.step + 1)) / (steps * f.epochs));
          if (pct !== last && pct % 10 === 0) progress(`fine-tuning: epoch ${s.epoch + 1}/${f.epochs}, ${pct}%, loss ${s.loss.toFixed(4)}`);
          last = pct;
        },
      });
      const trained = t.graph();
      return free ? { ...trained, inputs: g.inputs } : trained;
    } finally {
      t.dispose();
    }
  };
}

/** The per-layer table: channels, sparsity, storage, bytes, FLOPs and sensitivity of each layer with weights. */
function layerReports(a: ReturnType<typeof analyse>, g: Graph, plan: Plan, sens: Sensitivity, format: 'epm' | 'onnx', dense: Measured & { nodeFlops?: Map<string, number> }, after: Measured & { nodeFlops?: Map<string, number> }): FitLayerReport[] {
  return a.layers.map((l) => {
    const before = a.base.initializers.get(l.weight)!;
    const node = g.nodes.find((n) => n.name === l.name);
    const t = node ? g.initializers.get(node.inputs[1]) ?? before : before;
    const [outAxis, inAxis] = l.op === 'Conv' ? [0, 1] : l.op === 'ConvTranspose' ? [1, 0] : l.quantAxis === 0 ? [0, 1] : [1, 0];
    const groupOf = a.producerGroup.get(l.name);
    // a depthwise conv's group is its channel count: it shrinks with them
    const groupsAfter = node ? attrInt(node, 'group', 1) : l.groups;
    let zeros = 0;
    for (let i = 0; i < t.data.length; i++) if (t.data[i] === 0) zeros++;
    const planned = format === 'epm' ? planTensor(t, l.weight) : undefined;
    return {
      name: l.name,
      op: l.op,
      outBefore: before.dims[outAxis] * (l.op === 'ConvTranspose' ? l.groups : 1),
      outAfter: t.dims[outAxis] * (l.op === 'ConvTranspose' ? groupsAfter : 1),
      inBefore: before.dims[inAxis] * (l.op === 'Conv' ? l.groups : 1),
      inAfter: t.dims[inAxis] * (l.op === 'Conv' ? groupsAfter : 1),
      sparsity: t.data.length ? zeros / t.data.length : 0,
      int8: t.quant !== undefined,
      storage: planned ? ENCODING_NAMES[planned.encoding] : 'onnx-f32',
      bytes: planned ? planned.byteLength : numel(t.dims) * 4,
      bytesBefore: format === 'epm' ? planTensor(before, l.weight).byteLength : numel(before.dims) * 4,
      flops: after.nodeFlops?.get(l.name) ?? 0,
      flopsBefore: dense.nodeFlops?.get(l.name) ?? 0,
      sensitivity: (groupOf !== undefined ? sens.group[groupOf][plan.group[groupOf]] : 0) + sens.sparsity[l.index][plan.sparsity[l.index]] + (plan.int8[l.index] ? sens.int8[l.index] : 0),
    };
  });
}
