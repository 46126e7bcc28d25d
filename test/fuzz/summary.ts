// Tallies outcomes per loader (valid results, typed errors by class/code, crashes, hangs, the
// largest allocation) and per mutation family, and prints them as plain text.
import type { FuzzCase } from './cases.js';
import { LOADERS, MiB, type Loader, type Outcome } from './oracle.js';

interface LoaderTally {
  cases: number;
  ok: number;
  errors: Map<string, number>;
  /** the first case and message seen per error key */
  examples: Map<string, string>;
  crashes: number;
  hangs: number;
  maxMemory: number;
  maxMs: number;
  /** the case behind maxMs */
  slowest: string;
  /** session only: created but run() threw a typed error */
  runErrors: number;
}

export interface Failure {
  seed: number;
  index: number;
  from: string;
  desc: string;
  failures: string[];
}

export class Summary {
  cases = 0;
  readonly loaders = new Map<Loader, LoaderTally>(LOADERS.map((l) => [l, { cases: 0, ok: 0, errors: new Map(), examples: new Map(), crashes: 0, hangs: 0, maxMemory: 0, maxMs: 0, slowest: '', runErrors: 0 }]));
  readonly families = new Map<string, { cases: number; sessions: number }>();
  readonly kinds = new Map<string, number>();
  readonly failed: Failure[] = [];
  /** failures matching KNOWN_RUNTIME_BUGS (oracle.ts) */
  readonly known: Failure[] = [];
  aboveJustified = 0;
  maxMemory = 0;
  /** cases the runner killed after the time limit (no outcome) */
  hangs = 0;

  add(c: FuzzCase, o: Outcome): void {
    this.cases++;
    if (!o.steps.session) {
      // the case never reached the loaders (the generator failed): a fuzzer bug, still a failure
      this.failed.push({ seed: c.seed, index: c.index, from: c.from, desc: c.desc, failures: o.failures });
      return;
    }
    this.kinds.set(c.kind, (this.kinds.get(c.kind) ?? 0) + 1);
    const fam = this.families.get(c.family) ?? { cases: 0, sessions: 0 };
    fam.cases++;
    if (o.steps.session.status === 'ok' && !o.steps.session.what) fam.sessions++;
    this.families.set(c.family, fam);
    for (const l of LOADERS) {
      const s = o.steps[l];
      const t = this.loaders.get(l)!;
      t.cases++;
      if (s.status === 'ok') {
        if (l === 'session' && s.phase === 'run' && s.what) t.runErrors++;
        else t.ok++;
      } else if (s.status === 'error') {
        if (l === 'session' && s.phase === 'run') t.runErrors++;
        const key = `${s.what}${s.phase === 'run' ? ' (run)' : ''}`;
        t.errors.set(key, (t.errors.get(key) ?? 0) + 1);
        if (!t.examples.has(key)) t.examples.set(key, `case ${c.index}: ${(s.message ?? '').split('\n')[0].slice(0, 160)}`);
      } else t.crashes++;
      if (o.failures.some((f) => f.startsWith(`${l}: hang`))) t.hangs++;
      t.maxMemory = Math.max(t.maxMemory, s.memory);
      if (s.ms > t.maxMs) {
        t.maxMs = s.ms;
        t.slowest = `case ${c.index} (${c.from}: ${c.desc.slice(0, 100)})`;
      }
    }
    if (o.aboveJustified) this.aboveJustified++;
    this.maxMemory = Math.max(this.maxMemory, o.memory);
    if (o.failures.length) this.failed.push({ seed: c.seed, index: c.index, from: c.from, desc: c.desc, failures: o.failures });
    if (o.known?.length) this.known.push({ seed: c.seed, index: c.index, from: c.from, desc: c.desc, failures: o.known });
  }

  /** A case the runner had to kill (no outcome): a hang. */
  addHang(c: Pick<FuzzCase, 'seed' | 'index' | 'from' | 'desc'>, ms: number): void {
    this.cases++;
    this.hangs++;
    this.failed.push({ seed: c.seed, index: c.index, from: c.from, desc: c.desc, failures: [`hang: no result after ${ms} ms (worker terminated)`] });
  }

  get crashes(): number {
    return [...this.loaders.values()].reduce((a, t) => a + t.crashes, 0);
  }

  get hangCount(): number {
    return this.hangs + [...this.loaders.values()].reduce((a, t) => a + t.hangs, 0);
  }

  format(): string {
    const lines: string[] = [];
    const mib = (b: number) => `${(b / MiB).toFixed(1)} MiB`;
    lines.push(`fuzz: ${this.cases} cases (${[...this.kinds].map(([k, n]) => `${k} ${n}`).join(', ')})`);
    for (const [l, t] of this.loaders) {
      const okWord = l === 'session' ? 'valid sessions (created and ran)' : 'loaded';
      lines.push(`  ${l}: ${t.cases} cases, ${t.ok} ${okWord}${l === 'session' ? `, ${t.runErrors} created but run() refused` : ''}, crashes=${t.crashes}, hangs=${t.hangs}, max memory ${mib(t.maxMemory)}, slowest ${t.maxMs.toFixed(0)} ms: ${t.slowest}`);
      const errs = [...t.errors].sort((a, b) => b[1] - a[1]);
      for (const [what, n] of errs) lines.push(`      ${String(n).padStart(6)}  ${what}  (e.g. ${t.examples.get(what)})`);
    }
    lines.push(`  mutation families (cases / valid sessions):`);
    for (const [f, v] of [...this.families].sort((a, b) => a[0].localeCompare(b[0]))) lines.push(`      ${f.padEnd(28)} ${String(v.cases).padStart(6)} / ${v.sessions}`);
    lines.push(`  allocations above 32 × file size + 64 MiB (within the cap): ${this.aboveJustified}; largest allocation of any case: ${mib(this.maxMemory)}`);
    lines.push(`  crashes=${this.crashes} hangs=${this.hangCount} failing cases=${this.failed.length}; known runtime bugs (reported, to be fixed outside the loaders): ${this.known.length} cases`);
    for (const f of this.known.slice(0, 5)) lines.push(`  KNOWN seed=${f.seed} case=${f.index} from ${f.from}: ${f.desc.slice(0, 200)}\n       ${f.failures[0].split('\n')[0]}`);
    for (const f of this.failed.slice(0, 30)) {
      lines.push(`  FAIL seed=${f.seed} case=${f.index} from ${f.from}: ${f.desc.slice(0, 300)}`);
      for (const x of f.failures) lines.push(`       ${x.split('\n').slice(0, 6).join('\n       ')}`);
    }
    return lines.join('\n');
  }
}
