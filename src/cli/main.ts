// The `edgeprune` command: program definition and the one place errors turn into exit codes.
// main() takes its surroundings as deps so tests can inject a runtime and capture the output.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { CommandContext, Output } from './context.js';
import { EXIT_OK, EXIT_USAGE, reportError } from './errors.js';
import { inspect } from './inspect.js';
import { run } from './run.js';
import { prune, PRUNE_METHODS, type PruneOptions } from './prune.js';
import { fitCommand, type FitCliOptions } from './fit.js';
import { exportModel } from './export.js';
import { compileCommand, type CompileCliOptions } from './compile.js';
import { evalModel, type EvalOptions } from './eval.js';
import { bench, type BenchOptions } from './bench.js';
import { loadRuntime } from './runtime.js';
import type { CliRuntime, KernelChoice } from './session-types.js';

export interface CliDeps {
  stdout: Output;
  stderr: Output;
  env: Record<string, string | undefined>;
  /** The runtime module (InferenceSession, Tensor); loaded on first use by default. */
  runtime: () => Promise<CliRuntime>;
}

/** Runs the CLI on process.argv-style arguments (node, script, ...); resolves to the exit code. */
export async function main(argv: readonly string[], deps: Partial<CliDeps> = {}): Promise<number> {
  const ctx: CommandContext = {
    stdout: deps.stdout ?? process.stdout,
    stderr: deps.stderr ?? process.stderr,
    runtime: deps.runtime ?? loadRuntime,
  };
  // a closed pipe on stdout or stderr (`edgeprune fit ... 2>&1 | head`) is not worth dying for:
  // the command goes on and still writes its files
  for (const s of [deps.stdout ? undefined : process.stdout, deps.stderr ? undefined : process.stderr]) s?.on('error', ignoreEpipe);
  const env = deps.env ?? process.env;
  const args = argv.slice(2);
  const dashes = args.indexOf('--');
  const options = dashes < 0 ? args : args.slice(0, dashes);
  const debug = env.EDGEPRUNE_DEBUG === '1' || options.includes('--debug');
  try {
    await program(ctx).parseAsync([...argv]);
    return EXIT_OK;
  } catch (e) {
    const { code, exitCode } = e as { code?: unknown; exitCode?: unknown };
    // --help, --version: commander already printed, and exits with 0
    if (code === 'commander.helpDisplayed' || code === 'commander.version') return EXIT_OK;
    // `help [command]` (exit 0), or no command at all (the help went to stderr, exit non-zero)
    if (code === 'commander.help') return exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    return reportError(e, ctx.stderr, debug, options.includes('--json') ? ctx.stdout : undefined);
  }
}

function program(ctx: CommandContext): Command {
  const p = new Command('edgeprune')
    .description('Prune, recover and run neural networks on-device (.onnx models, .npy tensors)')
    .version(packageVersion(), '-V, --version')
    .option('--debug', 'print stack traces on errors (also EDGEPRUNE_DEBUG=1)')
    .showSuggestionAfterError()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
      outputError: () => {}, // reportError prints the one line
    })
    .exitOverride(); // set before .command(): subcommands copy these settings

  p.command('inspect')
    .description("show a model's inputs, outputs, operators, parameters, size, FLOPs and planned peak memory")
    .argument('<model>', 'model file (.onnx or .epm)')
    .option('--json', 'print the info as JSON')
    .option('--layers', 'list each layer with weights: its kernel (dense or sparse) and why')
    .addOption(kernelsOption())
    .option('--dim <NAME=VALUE>', 'value of a symbolic dim to plan for (repeatable), e.g. --dim batch=8', collect)
    .action((model: string, opts: { json?: boolean; layers?: boolean; dim?: string[]; kernels?: KernelChoice }) => inspect(ctx, model, opts));

  p.command('run')
    .description('run a model on .npy inputs and write each output to DIR/<output name>.npy')
    .argument('<model>', 'model file (.onnx or .epm)')
    .option('-i, --input <[NAME=]FILE.npy>', 'an input tensor (repeatable); without NAME= the files fill the inputs in model order', collect)
    .requiredOption('-o, --out <DIR>', 'directory for the outputs (created if needed)')
    .addOption(new Option('--wasm <flavor>', 'kernel build (default: relaxed where the host supports it)').choices(['simd', 'relaxed']))
    .option('--dim <NAME=VALUE>', 'value of a symbolic dim (repeatable); by default taken from the inputs', collect)
    .addOption(kernelsOption())
    .action((model: string, opts: { input?: string[]; out: string; wasm?: 'simd' | 'relaxed'; dim?: string[]; kernels?: KernelChoice }) => run(ctx, model, { ...opts, input: opts.input ?? [] }));

  p.command('prune')
    .description('prune a model and write it (.onnx or .epm), printing parameters, non-zeros, FLOPs, file bytes and peak memory before and after')
    .argument('<model>', 'model file (.onnx or .epm)')
    .addOption(new Option('-m, --method <method>', 'pruning method').choices([...PRUNE_METHODS]).makeOptionMandatory())
    .option('-a, --amount <fraction|count>', 'share of weights (or channels) to remove, a fraction in [0, 1) such as 0.5; an integer (1 included) is a count of weights per layer (global-l1: in all), as in PyTorch')
    .option('--nm <N:M>', 'for --method nm: keep N of every M weights along the input dimension (2:4, 4:8)', '2:4')
    .option('--block <1x4|4x1>', 'for --method block: block shape', '1x4')
    .option('--round-to <n>', 'for channel methods: kept channels a multiple of n (SIMD width)', '4')
    .option('--exclude <names>', 'comma-separated node names to leave alone')
    .option('--seed <n>', 'for --method random: the seed', '0')
    .option('--dim <NAME=VALUE>', 'value of a symbolic dim to analyse and measure at (repeatable), e.g. --dim height=224', collect)
    .option('--int8', 'also quantize the weights to int8 per output channel (stored as int8 in .epm; ONNX gets the dequantized floats)')
    .requiredOption('-o, --out <OUT.onnx|OUT.epm>', 'output model: ONNX when it ends in .onnx, else the compact edgeprune artifact (pruned weights stored sparsely)')
    .action((model: string, opts: PruneOptions) => prune(ctx, model, opts));

  p.command('fit')
    .description('prune a model to meet size / memory / latency / FLOP budgets with the least damage, recover accuracy from calibration data, and verify every budget on the written file')
    .argument('<model>', 'model file (.onnx or .epm)')
    .option('--max-size <size>', 'largest file: B, kB (1000), KB or KiB (1024), MB, MiB, e.g. 300kB')
    .option('--max-memory <size>', 'largest peak memory at batch 1 (activation arena + packed weights), e.g. 4MB')
    .option('--max-latency <time>', 'largest median latency at batch 1 on this machine, e.g. 5ms')
    .option('--max-flops <n>', 'most FLOPs per inference at batch 1, e.g. 12M')
    .option('--calib <X.npy>', 'calibration inputs, float32/float64, samples along axis 0 (no labels needed)')
    .option('--data <X.npy>', 'labelled samples: accuracy before/after, fine-tuning, and calibration when --calib is not given')
    .option('--labels <Y.npy>', 'class index per --data sample')
    .option('--finetune-epochs <n>', 'fine-tune this many epochs on --data/--labels after pruning (pruned weights stay zero)')
    .option('--samples <n>', 'calibration samples used (default 512)')
    .addOption(new Option('--recovery <how>', 'accuracy recovery without training (default reconstruct)').choices(['reconstruct', 'bias', 'none']))
    .option('--no-channels', 'do not remove channels')
    .option('--no-sparse', 'do not zero individual weights')
    .option('--no-int8', 'do not store weights as int8')
    .option('--exclude <names>', 'comma-separated node names to leave alone')
    .option('--elastic', 'write an elastic .epm: channels in importance order, so a session loads the widest of 100%, 87.5%, ..., 25% width that fits its memoryBudget from a prefix of the file (int8 off)')
    .option('--report <report.html>', 'write an HTML report (tables, sensitivity curves, size-vs-damage frontier)')
    .option('--json', 'print the result as JSON')
    .option('--quiet', 'no progress on stderr')
    .requiredOption('-o, --out <OUT.onnx|OUT.epm>', 'output model: ONNX when it ends in .onnx (dense floats: only removed channels shrink it), else the .epm artifact (sparse and int8 storage)')
    .action((model: string, opts: FitCliOptions) => fitCommand(ctx, model, opts));

  p.command('eval')
    .description('accuracy on labelled .npy data, size on disk, parameters and median latency per inference')
    .argument('<model>', 'model file (.onnx or .epm)')
    .requiredOption('--data <X.npy>', 'samples, float32 or float64, samples along axis 0 (e.g. [n, 1, 28, 28])')
    .requiredOption('--labels <Y.npy>', 'class index per sample, integer, [n]')
    .option('--batch <n>', 'batch size when the model has a symbolic batch dim', '64')
    .option('--json', 'print the result as JSON')
    .addOption(new Option('--wasm <flavor>', 'kernel build (default: relaxed where the host supports it)').choices(['simd', 'relaxed']))
    .addOption(kernelsOption())
    .action((model: string, opts: EvalOptions) => evalModel(ctx, model, opts));

  p.command('bench')
    .description('latency on this machine without data: session creation, the first run, and the median of many runs on random inputs (--compare: against dense kernels)')
    .argument('<model>', 'model file (.onnx or .epm)')
    .option('--dim <NAME=VALUE>', 'value of a symbolic dim (repeatable); unnamed ones are 1, e.g. --dim height=224', collect)
    .option('--runs <n>', 'timed runs (after 20 warm-up runs)', '100')
    .option('--compare', 'also time the model with dense kernels forced, interleaved, and print the speed-up')
    .option('--json', 'print the result as JSON')
    .addOption(new Option('--wasm <flavor>', 'kernel build (default: relaxed where the host supports it)').choices(['simd', 'relaxed']))
    .addOption(kernelsOption())
    .action((model: string, opts: BenchOptions) => bench(ctx, model, opts));

  p.command('export')
    .description('convert a model: OUT.onnx gets dense ONNX (loads in onnxruntime), any other name the compact .epm artifact')
    .argument('<model>', 'model file (.onnx or .epm)')
    .requiredOption('-o, --out <OUT.onnx|OUT.epm>', 'output model: ONNX when it ends in .onnx, else the edgeprune artifact')
    .action((model: string, opts: { out: string }) => exportModel(ctx, model, opts));

  p.command('compile')
    .description('plan and pack a model for fixed input dims and write it as a compiled model for edgeprune/runtime (the small inference entry)')
    .argument('<model>', 'model file (.onnx or .epm)')
    .requiredOption('-o, --out <OUT.epc>', 'output: the compiled model')
    .option('--dim <NAME=VALUE>', 'size of a symbolic dim to compile for (repeatable; every one past the batch axis is needed), e.g. --dim height=224', collect)
    .option('--width <fraction>', 'elastic models: the fraction of channels to keep (the widest width at or below it)')
    .addOption(new Option('--wasm <flavor>', 'kernel build whose choices and layout are recorded (default simd; the result runs on both)').choices(['simd', 'relaxed']))
    .addOption(kernelsOption())
    .action((model: string, opts: CompileCliOptions) => compileCommand(ctx, model, opts));

  return p;
}

function kernelsOption(): Option {
  return new Option('--kernels <choice>', 'kernels for layers with weights: auto picks dense, sparse or slim (dense on the non-zero output channels) per layer from its zeros (default)').choices(['auto', 'dense', 'sparse', 'slim']);
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** package.json sits two levels up from both src/cli/main.ts and dist/cli/edgeprune.mjs. */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function ignoreEpipe(e: NodeJS.ErrnoException): void {
  if (e.code !== 'EPIPE') throw e;
}
