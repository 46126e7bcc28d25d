// Which width of an elastic artifact a session loads (format/read-elastic.ts): an explicit
// `width`, else the widest whose recorded memory fits `memoryBudget`. Kept small: it ships in
// edgeprune/runtime.
import { ArgumentError, OutOfMemoryError } from '../errors.js';
import type { ElasticLevel } from '../format/read-elastic.js';

export interface ElasticInfo {
  /** Index into levels of the width this session runs. */
  level: number;
  /** Every width in the file, widest first. */
  levels: ElasticLevel[];
}

const pct = (l: ElasticLevel) => `${+(100 * l.channels).toFixed(2)}%`;

/**
 * `width`: the widest level keeping at most that fraction of channels. Else the widest level from
 * `from` on whose recorded memory fits memoryBudget (unmeasured levels record 0 and always fit).
 */
export function pickLevel(levels: ElasticLevel[], width: number | undefined, budget: number | undefined, from = 0): ElasticInfo {
  const last = levels[levels.length - 1];
  let i = from;
  if (width !== undefined) {
    if (!(width > 0 && width <= 1)) throw new ArgumentError(`width is ${width}; give the fraction of channels to keep, in (0, 1]`);
    if (width < last.channels) throw new ArgumentError(`width ${width} is below this model's narrowest width; its widths are ${levels.map(pct).join(', ')}`);
    while (levels[i].channels > width) i++;
  } else if (budget !== undefined) {
    while (i < levels.length && levels[i].memoryBytes > budget) i++;
    if (i === levels.length) throw new OutOfMemoryError(`memoryBudget ${budget} bytes is below the ${last.memoryBytes} bytes of this elastic model's narrowest width (${pct(last)}): the smallest memoryBudget that works is ${last.memoryBytes}`, { neededBytes: last.memoryBytes, limitBytes: budget });
  }
  return { level: i, levels };
}
