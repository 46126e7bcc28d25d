// Budget parsing for `fit`: sizes (SI kB/MB, IEC KiB/MiB, KB = 1024), latency, FLOPs; bad input is an ArgumentError saying what to write.
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../src/errors.js';
import { parseBudgets, parseFlops, parseLatency, parseSize } from '../src/fit/budget.js';

describe('parseSize', () => {
  it.each([
    ['300kB', 300_000],
    ['300 kB', 300_000],
    ['4MB', 4_000_000],
    ['1.5MiB', 1_572_864],
    ['2KiB', 2048],
    ['2KB', 2048],
    ['512B', 512],
    ['1000', 1000],
    ['1GB', 1e9],
    ['1GiB', 2 ** 30],
    ['.5kB', 500],
    ['1e3B', 1000],
  ] as const)('%s = %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it('takes numbers as bytes (fractions rounded down)', () => {
    expect(parseSize(4096)).toBe(4096);
    expect(parseSize(100.9)).toBe(100);
  });

  it('refuses bits, unknown units, non-positive and non-numbers with a hint', () => {
    expect(() => parseSize('300kb')).toThrow(/lower-case b means bits; write 300kB/);
    expect(() => parseSize('3 parsecs')).toThrow(/unknown unit 'parsecs'.*kB \(1000\), KB or KiB \(1024\)/);
    expect(() => parseSize('0B')).toThrow(ArgumentError);
    expect(() => parseSize('-5kB')).toThrow(ArgumentError);
    expect(() => parseSize('lots')).toThrow(/not a number/);
    expect(() => parseSize(Number.NaN)).toThrow(ArgumentError);
  });
});

describe('parseLatency and parseFlops', () => {
  it.each([
    ['5ms', 5],
    ['500us', 0.5],
    ['500µs', 0.5],
    ['0.2s', 200],
    ['3', 3],
  ] as const)('latency %s = %d ms', (text, ms) => {
    expect(parseLatency(text)).toBeCloseTo(ms, 12);
  });

  it.each([
    ['12M', 12e6],
    ['1.5GFLOP', 1.5e9],
    ['1.5 GFLOPs', 1.5e9],
    ['2k', 2000],
    ['3000', 3000],
  ] as const)('FLOPs %s = %d', (text, n) => {
    expect(parseFlops(text)).toBe(n);
  });

  it('refuses unknown units', () => {
    expect(() => parseLatency('5 minutes')).toThrow(/use us, ms or s/);
    expect(() => parseFlops('12 MB')).toThrow(/k, M, G or T/);
  });
});

describe('parseBudgets', () => {
  it('needs at least one budget', () => {
    expect(() => parseBudgets({})).toThrow(/at least one budget/);
    expect(() => parseBudgets({ maxSize: undefined })).toThrow(ArgumentError);
  });

  it('parses every kind into base units', () => {
    expect(parseBudgets({ maxSize: '300kB', maxMemory: '4MiB', maxLatency: '5ms', maxFlops: '12M' })).toEqual({ maxBytes: 300_000, maxMemoryBytes: 4 * 2 ** 20, maxLatencyMs: 5, maxFlops: 12e6 });
    expect(parseBudgets({ maxBytes: 1234 })).toEqual({ maxBytes: 1234 });
  });

  it('a misspelt budget is an error, not a budget silently left out', () => {
    expect(() => parseBudgets({ maxSize: '30kB', maxMemry: 1 } as never)).toThrow(ArgumentError);
    expect(() => parseBudgets({ maxSize: '30kB', maxMemry: 1 } as never)).toThrow(/unknown budget 'maxMemry'; the budgets are maxSize, maxMemory, maxLatency and maxFlops/);
  });
});
