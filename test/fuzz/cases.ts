// Case generation: case `index` of run `seed` is a pure function of the two (its own sfc32
// stream), so any case can be rebuilt alone from the numbers a failure report prints.
import { Rng } from '../../src/train/rng.js';
import { seedCorpus, type FileKind, type Seed } from './corpus.js';
import { mutateBytes, pick, type Mutated } from './mutate-bytes.js';
import { mutateEpm } from './mutate-epm.js';
import { mutateNpy } from './mutate-npy.js';
import { mutateOnnx } from './mutate-onnx.js';

export interface FuzzCase {
  seed: number;
  index: number;
  kind: FileKind;
  /** the corpus file it was made from */
  from: string;
  /** the mutation family (for the summary) and its full description (for reproduction) */
  family: string;
  desc: string;
  bytes: Uint8Array;
}

/** Share of cases per file kind. */
const KIND_WEIGHTS: [FileKind, number][] = [
  ['onnx', 45],
  ['epm', 35],
  ['npy', 20],
];

function weighted<T>(r: Rng, items: T[], weight: (t: T) => number): T {
  const total = items.reduce((a, t) => a + weight(t), 0);
  let x = r.next() * total;
  for (const t of items) if ((x -= weight(t)) < 0) return t;
  return items[items.length - 1];
}

function mutate(r: Rng, s: Seed): Mutated & { family: string } {
  if (r.next() < 0.02) return { bytes: s.bytes, desc: 'unmutated', family: 'none' };
  if (s.kind === 'onnx') {
    if (r.next() < 0.55) {
      const m = mutateOnnx(r, s.bytes);
      return { ...m, family: `onnx:${m.desc.split(':')[0]}` };
    }
    const m = mutateBytes(r, s.bytes);
    return { ...m, family: `bytes:${m.desc.split(':')[0]}` };
  }
  if (s.kind === 'epm') {
    const m = mutateEpm(r, s.bytes);
    return { ...m, family: `epm:${m.desc.split(':')[0]}` };
  }
  const m = mutateNpy(r, s.bytes);
  return { ...m, family: m.desc.includes('; v') ? 'npy:header' : `bytes:${m.desc.split(':')[0]}` };
}

/** Case `index` of the run with this seed. */
export function makeCase(seed: number, index: number, corpus: Seed[] = seedCorpus()): FuzzCase {
  const r = new Rng(seed, index);
  const kind = weighted(r, KIND_WEIGHTS, (k) => k[1])[0];
  const seeds = corpus.filter((s) => s.kind === kind);
  const s = weighted(r, seeds, (x) => x.weight);
  const m = mutate(r, s);
  return { seed, index, kind, from: s.name, family: m.family, desc: m.desc, bytes: m.bytes };
}

export { pick };
