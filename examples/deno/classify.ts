// Runs a pruned model (.epm artifact) with edgeprune/runtime/dynamic in Deno and prints its predictions.
//
//   deno run --allow-read examples/deno/classify.ts model.epm [inputs.json] [--wasm simd|relaxed|auto]
//        [--dim NAME=VALUE ...] [--json]
//
// inputs.json holds one tensor {"dims": [1, 1, 28, 28], "data": [...]} or an array of them; without
// it the script classifies one test pattern shaped like the model's input (--dim sizes a symbolic
// dim of it, as onnxruntime's freeDimensionOverrides: a height and width an exporter left open). --json prints every
// output value (what test/runtime-deno.test.ts compares with Node's), otherwise the top class per input.
//
// In this repository deno.json maps 'edgeprune/runtime/dynamic' to the built bundle (run `npm run
// build` first); in your own project use the npm package: `import ... from 'npm:edgeprune/runtime/dynamic'`.
// It plans the artifact at the dims --dim gives; a model compiled for fixed dims (edgeprune
// compile) runs with edgeprune/runtime, the smaller entry.
// The kernels load from the package's wasm/ folder (--allow-read covers it); to load them yourself,
// pass the bytes or a compiled module: InferenceSession.create(model, { wasm: await WebAssembly.compile(bytes) }).
import { InferenceSession, Tensor, EdgepruneError } from 'edgeprune/runtime/dynamic';

// Deno's own types cover this global under `deno check`; the declaration keeps the repository's tsc happy.
declare const Deno: { args: string[]; readFile(path: string): Promise<Uint8Array>; readTextFile(path: string): Promise<string>; exit(code: number): never };

interface Feed {
  dims: number[];
  data: number[];
}

function option(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}

const positional = Deno.args.filter((a, i) => !a.startsWith('--') && !Deno.args[i - 1]?.startsWith('--wasm') && Deno.args[i - 1] !== '--dim');
const freeDimensionOverrides: Record<string, number> = {};
Deno.args.forEach((a, i) => {
  if (a !== '--dim') return;
  const [name, value] = (Deno.args[i + 1] ?? '').split('=');
  freeDimensionOverrides[name] = Number(value);
});
const [modelPath, inputsPath] = positional;
if (!modelPath) {
  console.error('usage: deno run --allow-read classify.ts model.epm [inputs.json] [--wasm simd|relaxed|auto] [--dim NAME=VALUE ...] [--json]');
  Deno.exit(2);
}
const wasm = (option('--wasm') ?? 'auto') as 'simd' | 'relaxed' | 'auto';

try {
  const t0 = performance.now();
  const session = await InferenceSession.create(await Deno.readFile(modelPath), { wasm, freeDimensionOverrides });
  const loadMs = performance.now() - t0;
  const input = session.inputMetadata[0];
  let feeds: Feed[];
  if (inputsPath) {
    const parsed = JSON.parse(await Deno.readTextFile(inputsPath)) as Feed | Feed[];
    feeds = Array.isArray(parsed) ? parsed : [parsed];
  } else {
    // a model whose free dims cannot be 1 (a pool needs more than a 1x1 image) has no plan yet,
    // so no dims to make a test pattern with
    const unplanned = session.modelInfo().unplanned;
    if (unplanned !== undefined) {
      console.error(`error: with its free input dims at 1 the model does not fit (${unplanned}); give them with --dim NAME=VALUE, or inputs.json`);
      Deno.exit(1);
    }
    // a vertical bar in the middle of the image: a "1" as drawn by a person in a hurry
    const dims = session.info().inputs[0].plannedDims;
    const [h, w] = dims.slice(-2);
    const data = new Array<number>(dims.reduce((a, b) => a * b, 1)).fill(0);
    for (let y = Math.floor(h / 5); y < h - Math.floor(h / 5); y++) for (let x = Math.floor(w / 2) - 1; x <= Math.floor(w / 2) + 1; x++) data[y * w + x] = 1;
    feeds = [{ dims, data }];
  }
  const results: Record<string, number[]>[] = [];
  for (const f of feeds) {
    const out = await session.run({ [input.name]: new Tensor('float32', Float32Array.from(f.data), f.dims) });
    results.push(Object.fromEntries(Object.entries(out).map(([k, t]) => [k, Array.from(t.data)])));
  }
  const info = session.info();
  if (Deno.args.includes('--json')) {
    console.log(JSON.stringify({ kernels: info.kernels, outputs: results }));
  } else {
    console.log(`${modelPath}: ${info.nonZeroParams} of ${info.params} weights non-zero, ${info.kernels} kernels, loaded in ${loadMs.toFixed(1)} ms`);
    results.forEach((r, i) => {
      const logits = r[session.outputNames[0]];
      const top = logits.indexOf(Math.max(...logits));
      console.log(`input ${i}: class ${top} (logit ${logits[top].toFixed(3)})`);
    });
  }
  await session.release();
} catch (e) {
  // edgeprune's errors are typed and say what to fix: print the message, not a stack
  if (e instanceof EdgepruneError) {
    console.error(`error: ${e.message}`);
    Deno.exit(1);
  }
  throw e;
}
