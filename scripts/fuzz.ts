// `npm run fuzz [-- --cases N --seed S --start I --mem-cap MiB --time-limit MS --case I]`:
// the long fuzz run of the loaders (test/fuzz/). Cases run in a worker thread; a watchdog in the
// main thread terminates the worker when a case gives no result within the time limit, counts
// the case as a hang and carries on in a fresh worker. Prints a summary per loader and exits 1
// on any crash, hang, unhandled rejection or allocation over the cap, saving each failing input
// under .fuzz-failures/ and printing its seed, index and mutation.
//
// `--case I` rebuilds case I of the seed alone, prints its mutation and outcome and saves it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { makeCase, type FuzzCase } from '../test/fuzz/cases.js';
import { seedCorpus } from '../test/fuzz/corpus.js';
import { GiB, MiB, runCase, type OracleOptions, type Outcome } from '../test/fuzz/oracle.js';
import { Summary } from '../test/fuzz/summary.js';

interface Args {
  cases: number;
  seed: number;
  start: number;
  memCap: number;
  timeLimit: number;
  only?: number;
  out: string;
  verbose: boolean;
  /** with --case: also keep the input as test/fuzz/regressions/<keep>.gz */
  keep?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { cases: 10_000, seed: 1, start: 0, memCap: GiB, timeLimit: 20_000, out: '.fuzz-failures', verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    const num = () => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${argv[i]} needs a non-negative number, got ${v}`);
      i++;
      return n;
    };
    switch (argv[i]) {
      case '--cases':
        a.cases = num();
        break;
      case '--seed':
        a.seed = num();
        break;
      case '--start':
        a.start = num();
        break;
      case '--mem-cap':
        a.memCap = num() * MiB;
        break;
      case '--time-limit':
        a.timeLimit = num();
        break;
      case '--case':
        a.only = num();
        break;
      case '--keep':
        a.keep = v;
        i++;
        break;
      case '--verbose':
        a.verbose = true;
        break;
      case '--out':
        a.out = v;
        i++;
        break;
      default:
        throw new Error(`unknown option ${argv[i]}; options: --cases N --seed S --start I --mem-cap MiB --time-limit MS --case I [--keep NAME] --out DIR --verbose`);
    }
  }
  return a;
}

type Message = { type: 'start'; index: number } | { type: 'done'; index: number; c: Omit<FuzzCase, 'bytes'>; o: Outcome } | { type: 'rejection'; index: number; message: string };

// ---- worker: runs cases [start, end) and reports each -------------------------------------------

async function worker(): Promise<void> {
  const { seed, start, end, opts, out, verbose } = workerData as { seed: number; start: number; end: number; opts: OracleOptions; out: string; verbose: boolean };
  let current = start;
  process.on('unhandledRejection', (e) => parentPort!.postMessage({ type: 'rejection', index: current, message: (e as Error)?.stack ?? String(e) } satisfies Message));
  const corpus = seedCorpus();
  for (let i = start; i < end; i++) {
    current = i;
    parentPort!.postMessage({ type: 'start', index: i } satisfies Message);
    let c: FuzzCase;
    try {
      c = makeCase(seed, i, corpus);
    } catch (e) {
      c = rebuild(seed, i);
      parentPort!.postMessage({ type: 'done', index: i, c: { ...c, bytes: undefined } as unknown as Omit<FuzzCase, 'bytes'>, o: { steps: {} as Outcome['steps'], failures: [`fuzzer bug: ${(e as Error)?.message}`], known: [], memory: 0, aboveJustified: false } } satisfies Message);
      continue;
    }
    if (verbose) console.log(`case ${i} from ${c.from}: ${c.desc.slice(0, 200)}`);
    const o = await runCase(c.bytes, opts);
    if (o.failures.length || o.known.length) save(out, c);
    const { bytes: _bytes, ...meta } = c;
    parentPort!.postMessage({ type: 'done', index: i, c: meta, o } satisfies Message);
  }
}

/** The case, or a stand-in naming why it cannot be rebuilt (a generator bug must not end the run). */
function rebuild(seed: number, index: number): FuzzCase {
  try {
    return makeCase(seed, index);
  } catch (e) {
    return { seed, index, kind: 'onnx', from: '?', family: 'generator error', desc: `the case cannot be generated: ${(e as Error)?.stack ?? e}`, bytes: new Uint8Array(0) };
  }
}

function save(dir: string, c: FuzzCase): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `seed${c.seed}-case${c.index}.${c.kind === 'npy' ? 'npy' : c.kind}`);
  writeFileSync(file, c.bytes);
  return file;
}

// ---- main: the watchdog ------------------------------------------------------------------------------

function runRange(a: Args, summary: Summary, start: number, end: number): Promise<number> {
  return new Promise((resolve) => {
    // a JS heap past twice the cap ends the worker with ERR_WORKER_OUT_OF_MEMORY (reported as
    // the case's failure) instead of taking the whole process down
    const resourceLimits = { maxOldGenerationSizeMb: Math.max(2048, Math.ceil((2 * a.memCap) / MiB)) };
    const w = new Worker(new URL(import.meta.url), { workerData: { seed: a.seed, start, end, opts: { memCap: a.memCap, timeLimitMs: a.timeLimit }, out: a.out, verbose: a.verbose }, resourceLimits });
    let current = start;
    let timer: NodeJS.Timeout | undefined;
    // where the next worker starts: past the case that hung or killed this one, else done
    let next = end;
    let lastDone = start - 1;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        // no result in time: a hang (or a case so slow it counts as one)
        const c = rebuild(a.seed, current);
        summary.addHang(c, a.timeLimit * 2);
        console.log(`HANG seed=${a.seed} case=${current} from ${c.from}: ${c.desc} (saved ${save(a.out, c)})`);
        next = current + 1;
        void w.terminate();
      }, a.timeLimit * 2);
    };
    w.on('message', (m: Message) => {
      if (m.type === 'start') {
        current = m.index;
        arm();
      } else if (m.type === 'done') {
        lastDone = m.index;
        summary.add({ ...m.c, bytes: new Uint8Array(0) }, m.o);
        if (m.o.failures.length) console.log(`FAIL seed=${a.seed} case=${m.index} from ${m.c.from}: ${m.c.desc.slice(0, 300)}\n  ${m.o.failures.join('\n  ')}`);
        if (m.o.known?.length) console.log(`KNOWN RUNTIME BUG seed=${a.seed} case=${m.index} from ${m.c.from}: ${m.c.desc.slice(0, 200)}\n  ${m.o.known[0].split('\n')[0]}`);
        const done = m.index + 1 - a.start;
        if (done % 1000 === 0) console.log(`  ${done} cases, ${summary.failed.length} failing`);
      } else {
        const c = rebuild(a.seed, m.index);
        summary.failed.push({ seed: a.seed, index: m.index, from: c.from, desc: c.desc, failures: [`unhandled rejection: ${m.message}`] });
        console.log(`UNHANDLED REJECTION seed=${a.seed} case=${m.index}: ${m.message}`);
      }
    });
    w.on('error', (e) => {
      clearTimeout(timer);
      const c = rebuild(a.seed, current);
      summary.failed.push({ seed: a.seed, index: current, from: c.from, desc: c.desc, failures: [`worker died: ${e.stack ?? e}`] });
      console.log(`WORKER DIED seed=${a.seed} case=${current}: ${e.message} (saved ${save(a.out, c)})`);
      next = current + 1;
    });
    w.on('exit', (code) => {
      clearTimeout(timer);
      if (next === end && lastDone !== end - 1) {
        // the worker left before its last case without an error event (process.exit, abort)
        const c = rebuild(a.seed, current);
        summary.failed.push({ seed: a.seed, index: current, from: c.from, desc: c.desc, failures: [`worker exited with code ${code} during the case`] });
        next = current + 1;
      }
      resolve(next);
    });
  });
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (a.only !== undefined) {
    const c = makeCase(a.seed, a.only);
    console.log(`seed=${a.seed} case=${a.only} kind=${c.kind} from ${c.from} (${c.bytes.length} bytes)\n  ${c.desc}`);
    const o = await runCase(c.bytes, { memCap: a.memCap, timeLimitMs: a.timeLimit });
    for (const [l, s] of Object.entries(o.steps)) console.log(`  ${l}: ${s.status}${s.phase ? ` (${s.phase})` : ''} ${s.what ?? ''} ${Math.round(s.ms)} ms ${(s.memory / MiB).toFixed(1)} MiB${s.message ? `\n      ${s.message.split('\n').slice(0, 8).join('\n      ')}` : ''}`);
    const bad = [...o.failures, ...o.known.map((k) => `(known runtime bug) ${k}`)];
    console.log(bad.length ? `FAIL\n  ${bad.join('\n  ')}\n  saved ${save(a.out, c)}` : 'ok');
    if (a.keep) {
      const file = join('test/fuzz/regressions', `${a.keep}.gz`);
      writeFileSync(file, gzipSync(c.bytes, { level: 9 }));
      console.log(`kept as ${file}: add it to test/fuzz/regressions/manifest.json`);
    }
    process.exit(bad.length ? 1 : 0);
  }
  const t0 = performance.now();
  console.log(`fuzz: seed ${a.seed}, cases ${a.start}..${a.start + a.cases - 1}, memory cap ${(a.memCap / MiB).toFixed(0)} MiB, time limit ${a.timeLimit} ms per step`);
  const summary = new Summary();
  const end = a.start + a.cases;
  for (let from = a.start; from < end; ) from = await runRange(a, summary, from, end);
  console.log(summary.format());
  console.log(`  ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  if (summary.failed.length || summary.known.length) {
    console.log(`FAILED: ${summary.failed.length} cases, and ${summary.known.length} cases of known runtime bugs; inputs saved in ${a.out}/; reproduce one with npm run fuzz -- --seed ${a.seed} --case INDEX`);
    process.exit(1);
  }
}

if (isMainThread) await main();
else await worker();
