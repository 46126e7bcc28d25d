// The files the CLI writes: whole or not at all (a temporary file renamed over the target), and
// written even when the terminal or pipe reading the command's output goes away.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './util/cli.js';
import { buildModel } from './util/onnx-build.js';
import { randomArray } from './util/rng.js';
import { ROOT } from './util/runtimes.js';
import { writeArtifact } from '../src/format/index.js';
import { importOnnx } from '../src/onnx/import.js';

const dir = mkdtempSync(join(tmpdir(), 'edgeprune-cli-files-'));
const model = join(dir, 'mlp.onnx');
writeFileSync(model, buildModel({
  nodes: [{ op: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { transB: 1 } }],
  inputs: [{ name: 'x', dims: [1, 64] }],
  outputs: ['y'],
  initializers: [{ name: 'w', dims: [32, 64], data: randomArray(2048, 3) }, { name: 'b', dims: [32], data: randomArray(32, 4) }],
}));
const partials = (d: string) => readdirSync(d).filter((f) => f.endsWith('.partial'));

describe('files the CLI writes', () => {
  it('replace the previous file whole and leave no temporary file', async () => {
    const out = join(dir, 'a.epm');
    writeFileSync(out, 'an older, longer file that must not survive in part'.repeat(1000));
    const r = await cli(['export', model, '--out', out]);
    expect(r.stderr).toBe('');
    expect(new Uint8Array(readFileSync(out))).toEqual(writeArtifact(importOnnx(new Uint8Array(readFileSync(model)))));
    expect(partials(dir)).toEqual([]);
  });

  it('a write that fails is one line naming the file, and leaves neither a partial file nor a changed old one', async () => {
    const missing = join(dir, 'no-such-dir', 'b.epm');
    const r = await cli(['prune', model, '-m', 'l1-unstructured', '-a', '0.5', '-o', missing]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^edgeprune: cannot write .*no-such-dir\/b\.epm.*\n$/);
    const asDir = join(dir, 'taken');
    mkdirSync(asDir);
    writeFileSync(join(asDir, 'keep.txt'), 'kept');
    const d = await cli(['export', model, '--out', asDir]);
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/^edgeprune: cannot write .*taken.*\n$/);
    expect(readFileSync(join(asDir, 'keep.txt'), 'utf8')).toBe('kept');
    expect(partials(dir)).toEqual([]);
  });

  it('a closed stdout and stderr (`edgeprune prune ... 2>&1 | head -1`) do not stop the command from writing its file', async () => {
    const out = join(dir, 'piped.epm');
    writeFileSync(out, 'old');
    const child = spawn(process.execPath, [join(ROOT, 'bin/edgeprune.mjs'), 'prune', model, '-m', 'l1-unstructured', '-a', '0.5', '-o', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    // the reader goes away before the command writes anything
    child.stdout.destroy();
    child.stderr.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    const written = new Uint8Array(readFileSync(out));
    expect(written.length).toBeGreaterThan(1000);
    expect(written.subarray(0, 4)).not.toEqual(new TextEncoder().encode('old'));
    expect(partials(dir)).toEqual([]);
  });
});
