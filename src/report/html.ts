// A self-contained HTML page (inline CSS and SVG, no scripts or external assets) for the reports
// of `npm start` and `edgeprune fit`: a title, tables and charts.
import { escapeXml } from './svg.js';

export type Block = { kind: 'heading'; text: string } | { kind: 'text'; text: string } | { kind: 'table'; rows: string[][] } | { kind: 'svg'; svg: string };

export function htmlPage(title: string, blocks: Block[]): string {
  const body = blocks.map((b) => {
    switch (b.kind) {
      case 'heading':
        return `<h2>${escapeXml(b.text)}</h2>`;
      case 'text':
        return `<p>${escapeXml(b.text)}</p>`;
      case 'svg':
        return `<figure>${b.svg}</figure>`;
      case 'table': {
        const [head, ...rows] = b.rows;
        return `<table><thead><tr>${head.map((c) => `<th>${escapeXml(c)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
      }
    }
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}figure{margin:1rem 0;display:inline-block}svg{max-width:100%;height:auto}
</style></head><body>
<h1>${escapeXml(title)}</h1>
${body.join('\n')}
</body></html>
`;
}
