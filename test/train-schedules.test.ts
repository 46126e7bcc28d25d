import { describe, expect, it } from 'vitest';
import { constantLr, cosineLr, isPruningStep, sparsityAt, stepLr } from '../src/train/schedules.js';

describe('learning-rate schedules', () => {
  it('match their formulas', () => {
    expect(constantLr(0.1)(7, 10)).toBe(0.1);
    expect(stepLr(1, 3, 0.5)(0, 10)).toBe(1);
    expect(stepLr(1, 3, 0.5)(3, 10)).toBe(0.5);
    expect(stepLr(1, 3, 0.5)(7, 10)).toBe(0.25);
    const c = cosineLr(1, 0.1, 2);
    expect(c(0, 12)).toBeCloseTo(0.5, 12);
    expect(c(1, 12)).toBeCloseTo(1, 12);
    expect(c(2, 12)).toBeCloseTo(1, 12);
    expect(c(11, 12)).toBeCloseTo(0.1, 12);
    expect(c(6.5, 12)).toBeCloseTo(0.55, 12); // half-way: the mean of lr and minLr
    expect(() => constantLr(0)).toThrow(/learning rate must be a positive number/);
  });
});

describe('gradual sparsity (Zhu & Gupta)', () => {
  const g = { initial: 0, final: 0.9, start: 10, steps: 4, every: 5 };
  it('follows s_t = s_f + (s_i - s_f)(1 - (t - t0)/(n Δt))^3 at pruning steps, held between', () => {
    expect(sparsityAt(9, g)).toBe(0);
    expect(sparsityAt(10, g)).toBeCloseTo(0, 12);
    expect(sparsityAt(15, g)).toBeCloseTo(0.9 - 0.9 * 0.75 ** 3, 12);
    expect(sparsityAt(17, g)).toBeCloseTo(sparsityAt(15, g), 12);
    expect(sparsityAt(20, g)).toBeCloseTo(0.9 - 0.9 * 0.5 ** 3, 12);
    expect(sparsityAt(30, g)).toBeCloseTo(0.9, 12);
    expect(sparsityAt(1000, g)).toBeCloseTo(0.9, 12);
    const steps = Array.from({ length: 40 }, (_, t) => t).filter((t) => isPruningStep(t, g));
    expect(steps).toEqual([10, 15, 20, 25, 30]);
    // monotone, and most of the pruning early
    expect(sparsityAt(15, g) - sparsityAt(10, g)).toBeGreaterThan(sparsityAt(30, g) - sparsityAt(25, g));
  });
  it('constant shape jumps to the final sparsity; bad settings are typed errors', () => {
    expect(sparsityAt(10, { ...g, shape: 'constant' })).toBe(0.9);
    expect(() => sparsityAt(10, { ...g, final: 1 })).toThrow(/sparsities must satisfy/);
    expect(() => sparsityAt(10, { ...g, every: 0 })).toThrow(/positive integers/);
  });
});
