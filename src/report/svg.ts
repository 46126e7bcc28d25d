// Small inline-SVG charts for the HTML reports (no scripts, no external assets): a scatter/line
// chart with labelled axes and a horizontal bar chart. Text is escaped; sizes are in px.

export interface Point {
  x: number;
  y: number;
  /** Shown next to the point. */
  label?: string;
}

export interface Series {
  name: string;
  points: Point[];
  /** Connect the points in x order (default true). */
  line?: boolean;
  color?: string;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Fixed axis ranges; default: the data's, padded. */
  xRange?: [number, number];
  yRange?: [number, number];
  /** Tick label formatting. */
  xFormat?: (v: number) => string;
  yFormat?: (v: number) => string;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About five round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function range(values: number[], fixed?: [number, number]): [number, number] {
  if (fixed) return fixed;
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  const pad = (hi - lo) * 0.08;
  return [lo - pad, hi + pad];
}

const fmtDefault = (v: number) => (Math.abs(v) >= 1000 ? v.toExponential(1) : String(Number(v.toPrecision(3))));

/** A scatter/line chart of one or more series. */
export function lineChart(series: Series[], o: ChartOptions): string {
  const W = o.width ?? 480;
  const H = o.height ?? 300;
  const m = { l: 64, r: 16, t: 32, b: 48 };
  const all = series.flatMap((s) => s.points);
  const [x0, x1] = range(all.map((p) => p.x), o.xRange);
  const [y0, y1] = range(all.map((p) => p.y), o.yRange);
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const xf = o.xFormat ?? fmtDefault;
  const yf = o.yFormat ?? fmtDefault;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(o.title)}" font-family="sans-serif" font-size="11">`);
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(o.title)}</text>`);
  for (const t of ticks(x0, x1)) {
    parts.push(`<line x1="${sx(t).toFixed(1)}" y1="${m.t}" x2="${sx(t).toFixed(1)}" y2="${H - m.b}" stroke="#eee"/>`);
    parts.push(`<text x="${sx(t).toFixed(1)}" y="${H - m.b + 14}" text-anchor="middle">${escapeXml(xf(t))}</text>`);
  }
  for (const t of ticks(y0, y1)) {
    parts.push(`<line x1="${m.l}" y1="${sy(t).toFixed(1)}" x2="${W - m.r}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${escapeXml(yf(t))}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 10}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  parts.push(`<text x="14" y="${(m.t + H - m.b) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(m.t + H - m.b) / 2})">${escapeXml(o.yLabel)}</text>`);
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    if ((s.line ?? true) && pts.length > 1) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) {
      parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3.5" fill="${color}"><title>${escapeXml(`${s.name}: ${xf(p.x)}, ${yf(p.y)}${p.label ? ` (${p.label})` : ''}`)}</title></circle>`);
      if (p.label) parts.push(`<text x="${(sx(p.x) + 6).toFixed(1)}" y="${(sy(p.y) - 6).toFixed(1)}" fill="${color}">${escapeXml(p.label)}</text>`);
    }
    parts.push(`<text x="${W - m.r - 4}" y="${m.t + 14 + 14 * i}" text-anchor="end" fill="${color}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Horizontal bars, one per item, with the value written at the end of each bar. */
export function barChart(items: { label: string; value: number }[], o: { title: string; unit: string; width?: number; format?: (v: number) => string }): string {
  const W = o.width ?? 480;
  const row = 22;
  const m = { l: 150, r: 90, t: 32 };
  const H = m.t + row * items.length + 10;
  const max = Math.max(...items.map((i) => i.value), 1e-12);
  const f = o.format ?? fmtDefault;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(o.title)}" font-family="sans-serif" font-size="11">`];
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(o.title)}</text>`);
  items.forEach((it, i) => {
    const y = m.t + i * row;
    const w = (it.value / max) * (W - m.l - m.r);
    parts.push(`<text x="${m.l - 6}" y="${y + 14}" text-anchor="end">${escapeXml(it.label)}</text>`);
    parts.push(`<rect x="${m.l}" y="${y + 3}" width="${w.toFixed(1)}" height="${row - 6}" fill="${PALETTE[i % PALETTE.length]}"/>`);
    parts.push(`<text x="${(m.l + w + 4).toFixed(1)}" y="${y + 14}">${escapeXml(`${f(it.value)} ${o.unit}`)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
