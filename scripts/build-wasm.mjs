// Run with node --experimental-wasm-relaxed-simd (Node 20) so the relaxed module can be compiled for the checks.
// Builds the two wasm flavours from assembly/ (targets in asconfig.json), then runs binaryen's
// optimizer over each emitted module and checks the properties the runtimes depend on:
// no imports at all (Workers/Deno import the file as a WebAssembly.Module), an exported memory,
// and relaxed opcodes present only in the relaxed build.
import asc from 'assemblyscript/asc';
import binaryen from 'binaryen';
import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';

const F = binaryen.Features;
// The features every engine we target (Chromium, Deno, workerd, Node 20) has had for years.
const base = F.MVP | F.SIMD128 | F.BulkMemory | F.BulkMemoryOpt | F.SignExt | F.NontrappingFPToInt | F.MutableGlobals;
const targets = [
  { name: 'simd', features: base },
  { name: 'relaxed', features: base | F.RelaxedSIMD },
];

await mkdir('wasm', { recursive: true });

// The kernels' build id, exported as the constant global `build_id` by both flavours: a hash of
// what decides the code and the memory layout (the sources, asconfig.json, the compiler's
// version). A compiled model (src/compile/) records the memory image and the kernel calls of one
// build; edgeprune/runtime refuses kernels of another build instead of running them on a layout
// they do not share.
const hash = createHash('sha256');
for (const f of (await readdir('assembly')).filter((f) => f.endsWith('.ts')).sort()) hash.update(f).update(await readFile(`assembly/${f}`));
hash.update(await readFile('asconfig.json')).update(JSON.parse(await readFile('node_modules/assemblyscript/package.json', 'utf8')).version);
const buildId = hash.digest().readInt32LE(0);
for (const t of targets) {
  const { error, stderr } = await asc.main(['--config', 'asconfig.json', '--target', t.name]);
  if (error) {
    console.error(stderr.toString());
    throw new Error(`asc failed for target ${t.name}: ${error.message}`);
  }
  const file = `wasm/${t.name}.wasm`;
  const mod = binaryen.readBinary(await readFile(file));
  mod.setFeatures(t.features);
  mod.addGlobal('build_id', binaryen.i32, false, mod.i32.const(buildId));
  mod.addGlobalExport('build_id', 'build_id');
  binaryen.setOptimizeLevel(3);
  binaryen.setShrinkLevel(0);
  mod.optimize();
  mod.runPasses(['strip-debug', 'strip-producers']);
  if (!mod.validate()) throw new Error(`${file}: binaryen validation failed`);
  const out = mod.emitBinary();
  mod.dispose();
  const compiled = new WebAssembly.Module(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
  const imports = WebAssembly.Module.imports(compiled);
  if (imports.length) throw new Error(`${file} has imports ${JSON.stringify(imports)}; the builds must have none`);
  if (!WebAssembly.Module.exports(compiled).some((e) => e.name === 'memory')) throw new Error(`${file} exports no memory`);
  await writeFile(file, out);
  console.log(`built ${file} (${out.byteLength} bytes)`);
}
