// `edgeprune export MODEL --out OUT`: converts between the two model formats, by the output's
// name: OUT.onnx gets dense ONNX (onnxruntime and every other tool load it; sparse and int8
// weights are written out as plain float32), any other name the compact .epm artifact.
import type { CommandContext } from './context.js';
import { readBytes, writeBytes } from './files.js';
import { bytes as fmtBytes, table } from './format.js';

export async function exportModel(ctx: CommandContext, model: string, opts: { out: string }): Promise<void> {
  const input = await readBytes(model);
  const [{ importOnnx }, { exportOnnx }, { isArtifact, readArtifact, writeArtifact }] = await Promise.all([
    import('../onnx/import.js'), import('../onnx/export.js'), import('../format/index.js'),
  ]);
  const fromArtifact = isArtifact(input);
  const graph = fromArtifact ? readArtifact(input) : importOnnx(input);
  const toOnnx = opts.out.toLowerCase().endsWith('.onnx');
  const output = toOnnx ? exportOnnx(graph) : writeArtifact(graph);
  await writeBytes(opts.out, output);
  const kind = (onnx: boolean) => (onnx ? 'ONNX' : 'edgeprune artifact');
  ctx.stdout.write(`${table([
    ['read', `${model}  (${kind(!fromArtifact)}, ${fmtBytes(input.byteLength)})`],
    ['wrote', `${opts.out}  (${kind(toOnnx)}, ${fmtBytes(output.byteLength)})`],
  ])}\n`);
}
