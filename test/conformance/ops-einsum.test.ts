// Einsum against onnxruntime-node: the equations PyTorch exports write (attention, batched and
// plain matrix products, channel mixing, outer and dot products, transposes, sums), with and
// without the permutations around the GEMM, ellipses, implicit outputs, and the typed errors for
// what edgeprune does not run.
import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../../src/runtime/session.js';
import { ModelFormatError, UnsupportedOpError } from '../../src/errors.js';
import { buildModel, expectSameAsOrt, w, type ModelSpec } from './harness.js';

/** x (and y) → Einsum → out: runtime operands, or a constant second operand. */
const einsum = (equation: string, dims: number[][], constB = false): ModelSpec => ({
  opset: 12,
  nodes: [{ op: 'Einsum', name: 'es', inputs: dims.map((_, i) => (i === 1 && constB ? 'W' : `x${i}`)), outputs: ['y'], attrs: { equation } }],
  inputs: dims.flatMap((d, i) => (i === 1 && constB ? [] : [{ name: `x${i}`, dims: d }])),
  outputs: ['y'],
  initializers: constB ? [w('W', dims[1])] : [],
});

describe('Einsum', () => {
  const cases: [string, number[][], boolean?][] = [
    ['bhqd,bhkd->bhqk', [[2, 3, 5, 4], [2, 3, 6, 4]]], // attention scores: B read transposed in place
    ['bhqk,bhkd->bhqd', [[2, 3, 5, 6], [2, 3, 6, 4]]], // attention values: no copies
    ['bij,bjk->bik', [[3, 4, 5], [3, 5, 9]]],
    ['ij,jk->ik', [[7, 5], [5, 10]]],
    ['ij,kj->ik', [[7, 5], [10, 5]]],
    ['nctv,vw->nctw', [[2, 3, 4, 5], [5, 6]], true], // channel mixing with a constant matrix
    ['bqhd,bkhd->bhqk', [[2, 5, 3, 4], [2, 6, 3, 4]]], // both operands permuted
    ['bhqk,bkhd->bqhd', [[2, 3, 5, 6], [2, 6, 3, 4]]], // the product permuted into the output
    ['i,j->ij', [[5], [9]]], // outer product (K = 1)
    ['bi,bi->b', [[4, 7], [4, 7]]], // row-wise dot products
    ['ij,jk', [[3, 4], [4, 5]]], // implicit output 'ik'
    ['...ij,...jk->...ik', [[2, 3, 4, 5], [2, 3, 5, 6]]],
    ['...ij,...jk', [[2, 4, 5], [2, 5, 3]]],
    ['ij->ji', [[4, 9]]],
    ['bchw->bhwc', [[2, 3, 4, 5]]],
    ['ij->i', [[6, 7]]],
    ['ijk->j', [[3, 4, 5]]], // a permutation, then a sum
    ['ij->', [[5, 6]]],
    ['ij->ij', [[3, 3]]],
  ];
  for (const [eq, dims, constB] of cases) {
    it(`'${eq}' on ${dims.map((d) => `[${d.join(', ')}]`).join(' and ')}${constB ? ' (constant B)' : ''}`, async () => {
      await expectSameAsOrt(einsum(eq, dims, constB));
    });
  }
  it('a new batch size re-plans the permutations and GEMMs', async () => {
    const spec: ModelSpec = {
      opset: 12,
      nodes: [{ op: 'Einsum', inputs: ['q', 'k'], outputs: ['y'], attrs: { equation: 'bqhd,bkhd->bhqk' } }],
      inputs: [{ name: 'q', dims: ['N', 5, 2, 4] }, { name: 'k', dims: ['N', 6, 2, 4] }],
      outputs: ['y'],
    };
    const session = await expectSameAsOrt(spec, { dimValues: { N: 1 } });
    const { compareRun, randomFeeds } = await import('./harness.js');
    await compareRun(session, buildModel(spec), randomFeeds(spec, { N: 3 }));
  });
  it('what edgeprune does not run, and inconsistent shapes: typed errors naming the node', async () => {
    const reject = (spec: ModelSpec) => InferenceSession.create(buildModel(spec)).then(() => undefined, (e: Error) => e);
    const three = await reject(einsum('ij,jk,kl->il', [[2, 3], [3, 4], [4, 5]]));
    expect(three).toBeInstanceOf(UnsupportedOpError);
    expect(three!.message).toMatch(/unsupported operator Einsum at node 'es': equation 'ij,jk,kl->il': 3 operands/);
    const diagonal = await reject(einsum('ii->i', [[4, 4]]));
    expect(diagonal!.message).toMatch(/a letter repeated within operand 'ii' \(a diagonal\)/);
    const oneSided = await reject(einsum('ij,jk->k', [[2, 3], [3, 4]]));
    expect(oneSided!.message).toMatch(/letter 'i' is summed away but only one operand has it/);
    const mismatch = await reject(einsum('ij,jk->ik', [[2, 3], [4, 5]]));
    expect(mismatch).toBeInstanceOf(ModelFormatError);
    expect(mismatch!.message).toMatch(/node 'es' \(Einsum\): equation 'ij,jk->ik': 'j' is 3 in one operand and 4 in another/);
    const rank = await reject(einsum('ijk,jk->i', [[2, 3], [3, 4]]));
    expect(rank!.message).toMatch(/'ijk' does not match input 0 of rank 2/);
  });
});
