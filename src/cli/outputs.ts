// Output file names: model output names made safe for any file system, and unique.

/** Anything outside [A-Za-z0-9._-] becomes '_'; names that are only dots or empty become '_'. */
export function fileSafe(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return /^\.*$/.test(s) ? `_${s}` : s;
}

/**
 * One file stem per output name, in order. Collisions (also ones differing only in case, which
 * collide on macOS and Windows) get _2, _3, ... appended.
 */
export function outputStems(names: readonly string[]): string[] {
  const taken = new Set<string>();
  return names.map((name) => {
    const base = fileSafe(name);
    let stem = base;
    for (let i = 2; taken.has(stem.toLowerCase()); i++) stem = `${base}_${i}`;
    taken.add(stem.toLowerCase());
    return stem;
  });
}
