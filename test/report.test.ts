import { describe, expect, it } from 'vitest';
import { barChart, lineChart, ticks } from '../src/report/svg.js';
import { htmlPage } from '../src/report/html.js';

describe('report charts', () => {
  it('picks round ticks covering the range', () => {
    expect(ticks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(ticks(97.3, 99.1)).toEqual([97.5, 98, 98.5, 99]);
  });

  it('places points by value and escapes text', () => {
    const svg = lineChart([{ name: 'a<b', points: [{ x: 0, y: 0 }, { x: 10, y: 5, label: '90% & fine-tuned' }] }], { title: 'T', xLabel: 'x', yLabel: 'y', width: 200, height: 100, xRange: [0, 10], yRange: [0, 5] });
    expect(svg).toContain('<polyline');
    // margins l 64, r 16, t 32, b 48: (0,0) at (64, 52), (10,5) at (184, 32)
    expect(svg).toContain('points="64.0,52.0 184.0,32.0"');
    expect(svg).toContain('a&lt;b');
    expect(svg).toContain('90% &amp; fine-tuned');
    expect(svg).not.toMatch(/<script/);
  });

  it('draws bars proportional to the values, in a self-contained page', () => {
    const svg = barChart([{ label: 'dense', value: 100 }, { label: 'pruned', value: 25 }], { title: 'bytes', unit: 'kB', width: 340 });
    expect(svg).toContain('width="100.0"'); // (340 - 150 - 90) * 1
    expect(svg).toContain('width="25.0"');
    const page = htmlPage('R', [{ kind: 'table', rows: [['a', 'b'], ['1', '<2>']] }, { kind: 'svg', svg }]);
    expect(page).toContain('<td>&lt;2&gt;</td>');
    expect(page).not.toMatch(/<script|src="http|href="http/);
  });
});
