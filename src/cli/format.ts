// Numbers for people: 1,234,567 params, 397.6 kB, 1.2 MFLOP, [1, 3, 224, 224].

const SI = ['', 'k', 'M', 'G', 'T', 'P'];

/** 1234 → "1,234". */
export function grouped(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Scales by 1000 with one decimal: (1234567, 'FLOP') → "1.2 MFLOP"; below 1000 the plain number. */
export function si(n: number, unit: string): string {
  if (!Number.isFinite(n)) return `${n} ${unit}`;
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 999.95 && i < SI.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${Math.round(v)} ${unit}` : `${v.toFixed(1)} ${SI[i]}${unit}`;
}

/** "397.6 kB (397,576 bytes)"; small sizes just "512 bytes". */
export function bytes(n: number): string {
  return n < 1000 ? `${grouped(n)} bytes` : `${si(n, 'B')} (${grouped(n)} bytes)`;
}

/** [1, 3, 'N'] → "[1, 3, N]". */
export function dimsText(dims: readonly (number | string)[]): string {
  return `[${dims.join(', ')}]`;
}

/** Left-aligned columns, two spaces apart. */
export function table(rows: string[][], indent = ''): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}
