// Channel dependency groups (Torch-Pruning's DependencyGraph, over edgeprune's Graph).
//
// Every run-time tensor of rank >= 2 gets one slot per channel (axis 1: NCHW channels, or the
// features of a [batch, features] matrix). Per-op rules (dependency-rules.ts) union slots that
// must be removed together (conv out c ↔ BN c ↔ relu c ↔ residual partner c; Concat offsets;
// Flatten's S features of channel c ↔ c), record which initializer axes are indexed by which
// tensor's channels (prune_out / prune_in), and block tensors they cannot reason about. A
// connected set of slots is one removable unit; units touching the same tensors the same way
// form a group (all channels of one conv, its BN, its consumers...). A group with any blocked
// tensor is left alone, with the reason: never cut what cannot be proven safe.
//
// Grouped convolutions add a second kind of constraint: their input and output channels fall
// into G contiguous blocks and the layer stays valid only if every block loses the same number
// of channels. Rules record that as a block split of the tensor (RuleContext.blocks); a group
// then carries, per unit, the block it lies in (the common refinement of every split touching
// it), and pruning removes the same count from each block.
import { ArgumentError } from '../errors.js';
import type { ConstTensor, Graph, Node } from '../graph/ir.js';
import { simplify } from '../graph/passes/simplify.js';
import { specialize } from '../runtime/specialize.js';
import { RULES, unknownOpRule } from './dependency-rules.js';

/** An initializer axis indexed by a tensor's channels. */
export interface ParamSlice {
  node: string;
  init: string;
  axis: number;
  /** The run-time tensor whose channel index selects along `axis`. */
  value: string;
  /** 'out': the slice computes that channel (counts for importance); 'in': reads it; 'aux': per-channel extras (bias, BN). */
  role: 'out' | 'in' | 'aux';
  /**
   * Grouped convolution: `axis` holds C/groups entries, the local index of a channel within its
   * block; axis 0 of the initializer is `groups` contiguous chunks and chunk g pairs with block g
   * (Conv weights [Cout, Cin/G, ..] on the input, ConvTranspose [Cin, Cout/G, ..] on the output).
   */
  groups?: number;
}

/** Kept channel indices of a tensor after pruning (all of them when it was not pruned). */
export type KeptOf = (value: string) => number[];

/** A node edit that depends on the pruning result (conv group count, Split sizes, Reshape target). */
export type Fixup = (node: Node, kept: KeptOf, inits: Map<string, ConstTensor>) => Node;

/** One removable unit: for each tensor of the group, the channel indices it covers. */
export type Unit = Map<string, number[]>;

export interface ChannelGroup {
  id: number;
  units: Unit[];
  /** Tensors whose channels the group covers. */
  values: string[];
  /** Initializer axes cut with the group. */
  params: ParamSlice[];
  /** Nodes whose output channels the group is (the layers reported). */
  producers: string[];
  prunable: boolean;
  reason?: string;
  /**
   * Set when a grouped convolution splits the group's channels into blocks: the block of each
   * unit (0..blockCount-1, every block the same number of units). Pruning removes the same
   * number of units from every block.
   */
  blocks?: Int32Array;
  blockCount?: number;
}

export interface DependencyGraph {
  /** The simplified graph the groups refer to (pruning starts from it). */
  graph: Graph;
  /** Dims of every run-time value at the planned input dims. */
  dims: Map<string, number[]>;
  groups: ChannelGroup[];
  fixups: Map<string, Fixup[]>;
}

export interface DependencyOptions {
  /** Dims for the graph inputs (symbolic dims default to 1); only used to infer spatial sizes. */
  inputDims?: Record<string, number[]>;
}

/** What a rule sees and can do. */
export interface RuleContext {
  node: Node;
  graph: Graph;
  dims(value: string): number[] | undefined;
  /** Channels (axis 1) of a run-time value, undefined for constants, omitted inputs and rank < 2. */
  channels(value: string): number | undefined;
  isRuntime(value: string): boolean;
  constant(value: string): ConstTensor | undefined;
  link(a: string, ai: number, b: string, bi: number): void;
  /** Channel c of a ↔ channel c of b (blocks both when the counts differ). */
  same(a: string, b: string): void;
  block(value: string, reason: string): void;
  /**
   * Records that `init`'s `axis` is indexed by `value`'s channels; false (and blocks) when it
   * cannot be. With `groups`, the axis holds local indices within blocks (see ParamSlice.groups).
   */
  param(init: string, axis: number, value: string, role: ParamSlice['role'], groups?: number): boolean;
  /** `value`'s channels form `count` contiguous blocks that must each lose the same number of channels. */
  blocks(value: string, count: number): void;
  /** A constant operand broadcast against `value` (bias, per-channel scale): sliced when it is per-channel. */
  constOperand(init: string, value: string): void;
  fixup(fn: Fixup): void;
  /** Nodes reading `value`. */
  consumers(value: string): Node[];
}

export type Rule = (ctx: RuleContext) => void;

/** Builds the channel groups of `graph` (simplified first; the input is not modified). */
export function buildDependencyGraph(graph: Graph, opts: DependencyOptions = {}): DependencyGraph {
  const g = simplify(graph);
  const inputDims = new Map<string, number[]>();
  /** Inputs whose symbolic dims were taken as 1 (no inputDims for them). */
  const atOne: string[] = [];
  for (const inp of g.inputs) {
    const given = opts.inputDims?.[inp.name];
    if (given) inputDims.set(inp.name, given);
    else if (inp.dims) {
      inputDims.set(inp.name, inp.dims.map((d) => (typeof d === 'number' ? d : 1)));
      if (inp.dims.some((d) => typeof d === 'string')) atOne.push(inp.name);
    } else throw new ArgumentError(`input '${inp.name}' has no declared shape; pass inputDims: { '${inp.name}': [...] } to structured pruning`);
  }
  for (const name of Object.keys(opts.inputDims ?? {})) {
    if (!g.inputs.some((i) => i.name === name)) throw new ArgumentError(`inputDims names '${name}', which is not an input; the inputs are ${g.inputs.map((i) => `'${i.name}'`).join(', ')}`);
  }
  let dims: Map<string, number[]>;
  let why: string | undefined;
  try {
    dims = specialize(g, inputDims).dims;
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    // an image model with free height and width (a pool needs more than 1x1): the sizes are the
    // user's to give; pruning nothing and saying "'x' is a graph input" helped nobody
    if (atOne.length) {
      // the declared dims with a batch of 1 and 224 for the other symbolic ones
      const example = g.inputs.filter((i) => atOne.includes(i.name)).map((i) => `'${i.name}': [${i.dims!.map((d, axis) => (typeof d === 'number' ? d : axis === 0 ? 1 : 224)).join(', ')}]`).join(', ');
      throw new ArgumentError(`structured pruning follows channels through every tensor's shape, and with the symbolic dims of ${atOne.map((n) => `'${n}'`).join(', ')} at 1 the model does not fit (${reason}); pass real sizes, e.g. inputDims: { ${example} } (edgeprune prune: --dim NAME=VALUE)`);
    }
    dims = new Map(inputDims);
    why = `shape inference failed (${reason})`;
  }
  return new Builder(g, dims, why).build();
}

class Builder {
  private readonly offset = new Map<string, number>();
  private readonly count = new Map<string, number>();
  private readonly slotValue: string[] = [];
  private parent: Int32Array = new Int32Array(0);
  private readonly blocked = new Map<string, string>();
  private readonly params: ParamSlice[] = [];
  private readonly fixups = new Map<string, Fixup[]>();
  private readonly readers = new Map<string, Node[]>();
  private readonly initUses = new Map<string, number>();
  /** Block splits of tensors (grouped convolutions): value -> [{ count, node }]. */
  private readonly splits = new Map<string, { count: number; node: string }[]>();

  constructor(
    private readonly g: Graph,
    private readonly dims: Map<string, number[]>,
    private readonly failure: string | undefined,
  ) {}

  build(): DependencyGraph {
    const g = this.g;
    // slots, in topological order (so unit order follows the first layer of a group)
    const runtime = [...g.inputs.map((i) => i.name), ...g.nodes.flatMap((n) => n.outputs)];
    for (const v of runtime) {
      const d = this.dims.get(v);
      if (!v || !d || d.length < 2 || this.offset.has(v)) continue;
      this.offset.set(v, this.slotValue.length);
      this.count.set(v, d[1]);
      for (let i = 0; i < d[1]; i++) this.slotValue.push(v);
    }
    this.parent = Int32Array.from(this.slotValue, (_, i) => i);
    for (const n of g.nodes) {
      n.inputs.forEach((i) => {
        if (!i) return;
        if (!this.readers.has(i)) this.readers.set(i, []);
        this.readers.get(i)!.push(n);
        if (g.initializers.has(i)) this.initUses.set(i, (this.initUses.get(i) ?? 0) + 1);
      });
    }
    // a failed shape inference first: it is why everything else is left alone (a value keeps its first reason)
    if (this.failure) for (const v of this.offset.keys()) this.block(v, this.failure);
    for (const i of g.inputs) this.block(i.name, `'${i.name}' is a graph input`);
    for (const o of g.outputs) this.block(o.name, `'${o.name}' is a graph output (its shape must not change)`);
    for (const node of g.nodes) {
      const key = node.domain === '' || node.domain === 'ai.onnx' ? node.op : `${node.domain}:${node.op}`;
      (RULES[key] ?? unknownOpRule)(this.context(node));
    }
    return { graph: g, dims: this.dims, groups: this.groups(), fixups: this.fixups };
  }

  private context(node: Node): RuleContext {
    const self = this;
    return {
      node,
      graph: this.g,
      dims: (v) => (v ? this.dims.get(v) : undefined),
      channels: (v) => this.count.get(v),
      isRuntime: (v) => v !== '' && !this.g.initializers.has(v),
      constant: (v) => this.g.initializers.get(v),
      link: (a, ai, b, bi) => this.union(this.offset.get(a)! + ai, this.offset.get(b)! + bi),
      same(a, b) {
        const ca = self.count.get(a);
        const cb = self.count.get(b);
        if (ca === undefined || cb === undefined || ca !== cb) {
          const reason = `${node.op} '${node.name}': channel counts of '${a}' (${ca ?? '?'}) and '${b}' (${cb ?? '?'}) cannot be matched`;
          self.block(a, reason);
          self.block(b, reason);
          return;
        }
        for (let i = 0; i < ca; i++) this.link(a, i, b, i);
      },
      block: (v, reason) => this.block(v, reason),
      param: (init, axis, value, role, groups) => {
        const t = this.g.initializers.get(init);
        const c = this.count.get(value);
        if (c === undefined) return false;
        const entries = groups ? c / groups : c;
        if (!t || t.dims[axis] !== entries || (groups !== undefined && (axis === 0 || t.dims[0] % groups !== 0))) {
          this.block(value, `${node.op} '${node.name}': '${init}' is not a constant with ${entries} entries on axis ${axis}`);
          return false;
        }
        if ((this.initUses.get(init) ?? 0) > 1 || this.g.outputs.some((o) => o.name === init)) {
          this.block(value, `${node.op} '${node.name}': '${init}' is shared with other nodes`);
          return false;
        }
        this.params.push({ node: node.name, init, axis, value, role, ...(groups ? { groups } : {}) });
        return true;
      },
      blocks: (value, count) => {
        if (!this.count.has(value)) return;
        if (!this.splits.has(value)) this.splits.set(value, []);
        this.splits.get(value)!.push({ count, node: node.name });
      },
      constOperand(init, value) {
        const t = self.g.initializers.get(init);
        const d = self.dims.get(value);
        const c = self.count.get(value);
        if (!t || !d || c === undefined) return;
        const a = 1 - (d.length - t.dims.length);
        if (a < 0 || t.dims[a] === 1) return; // broadcast over channels: nothing to cut
        this.param(init, a, value, 'aux');
      },
      fixup: (fn) => {
        if (!this.fixups.has(node.name)) this.fixups.set(node.name, []);
        this.fixups.get(node.name)!.push(fn);
      },
      consumers: (v) => this.readers.get(v) ?? [],
    };
  }

  private block(v: string, reason: string): void {
    if (this.offset.has(v) && !this.blocked.has(v)) this.blocked.set(v, reason);
  }

  private find(i: number): number {
    const p = this.parent;
    while (p[i] !== i) {
      p[i] = p[p[i]];
      i = p[i];
    }
    return i;
  }

  private union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }

  private groups(): ChannelGroup[] {
    const comps = new Map<number, number[]>();
    for (let s = 0; s < this.slotValue.length; s++) {
      const r = this.find(s);
      if (!comps.has(r)) comps.set(r, []);
      comps.get(r)!.push(s);
    }
    // units touching the same tensors with the same multiplicities form one group
    const bySig = new Map<string, Unit[]>();
    for (const slots of comps.values()) {
      const unit: Unit = new Map();
      for (const s of slots) {
        const v = this.slotValue[s];
        if (!unit.has(v)) unit.set(v, []);
        unit.get(v)!.push(s - this.offset.get(v)!);
      }
      const sig = [...unit].map(([v, idx]) => `${v}\u0000${idx.length}`).join('\u0001');
      if (!bySig.has(sig)) bySig.set(sig, []);
      bySig.get(sig)!.push(unit);
    }
    const groups: ChannelGroup[] = [];
    for (const units of bySig.values()) {
      const values = [...units[0].keys()];
      const vs = new Set(values);
      const params = this.params.filter((p) => vs.has(p.value));
      const producers = [...new Set(params.filter((p) => p.role === 'out').map((p) => p.node))];
      const blockedBy = values.find((v) => this.blocked.has(v));
      let reason = blockedBy !== undefined ? this.blocked.get(blockedBy) : undefined;
      if (!reason && producers.length === 0) reason = `no weight computes the channels of '${values[0]}'`;
      const split = this.unitBlocks(units, values);
      if (!reason && typeof split === 'string') reason = split;
      const blocks = typeof split === 'object' ? split : undefined;
      groups.push({ id: groups.length, units, values, params, producers, prunable: reason === undefined, reason, ...blocks });
    }
    return groups;
  }

  /**
   * The block of every unit under all block splits of the group's tensors: the common
   * refinement (units sharing a block in every split share a block). Equal removal per
   * refined block implies equal removal per block of each split only when the refined blocks
   * all hold the same number of units; otherwise (say, splits of 12 channels into 4 and into 3)
   * no equal cut exists and the reason is returned. undefined when no split touches the group.
   */
  private unitBlocks(units: Unit[], values: string[]): { blocks: Int32Array; blockCount: number } | string | undefined {
    const keys: string[] = units.map(() => '');
    const by: string[] = [];
    for (const v of values) {
      const splits = this.splits.get(v);
      if (!splits) continue;
      const c = this.count.get(v)!;
      let covered = 0;
      for (const u of units) covered += u.get(v)!.length;
      for (const { count, node } of splits) {
        by.push(`'${node}' (group=${count})`);
        // a block shared with another group (Concat / Split around the conv) would need equal
        // cuts across groups, which are pruned independently
        if (covered !== c) return `'${v}' feeds grouped convolution '${node}' (group=${count}) but its channels belong to several dependency groups`;
        const size = c / count;
        for (let i = 0; i < units.length; i++) {
          const idx = units[i].get(v)!;
          const b = Math.floor(idx[0] / size);
          if (idx.some((ch) => Math.floor(ch / size) !== b)) return `'${v}': a channel unit spans two blocks of grouped convolution '${node}' (group=${count})`;
          keys[i] += `${b},`;
        }
      }
    }
    if (by.length === 0) return undefined;
    const ids = new Map<string, number>();
    const blocks = Int32Array.from(keys, (k) => {
      if (!ids.has(k)) ids.set(k, ids.size);
      return ids.get(k)!;
    });
    const sizes = new Array<number>(ids.size).fill(0);
    for (const b of blocks) sizes[b]++;
    if (sizes.some((s) => s !== sizes[0])) return `'${values[0]}': grouped convolutions ${[...new Set(by)].join(', ')} split its channels into blocks that cannot lose equal counts`;
    return { blocks, blockCount: ids.size };
  }
}
