// InferenceSession.create takes the model as onnxruntime-web does: its bytes, or its name (a file
// path or file: URL read from disk here in Node; an http URL fetched, served from 127.0.0.1).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { ArgumentError, ModelFormatError } from '../src/errors.js';
import { buildModel } from './util/onnx-build.js';

const MODEL = buildModel({ nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }], inputs: [{ name: 'x', dims: [1, 4] }], outputs: ['y'] });
const x = new Tensor('float32', new Float32Array([-1, 2, -3, 4]), [1, 4]);
const relu = async (s: InferenceSession) => Array.from((await s.run({ x })).y.data);

let dir: string;
let server: Server;
let base: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgeprune-source-'));
  writeFileSync(join(dir, 'relu.onnx'), MODEL);
  server = createServer((req, res) => {
    if (req.url === '/relu.onnx') res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(MODEL);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('InferenceSession.create(model)', () => {
  it('reads a path (absolute or relative to the working directory) and a file: URL', async () => {
    const file = join(dir, 'relu.onnx');
    for (const name of [file, relative(process.cwd(), file), pathToFileURL(file), pathToFileURL(file).href]) {
      expect(await relu(await InferenceSession.create(name)), String(name)).toEqual([0, 2, 0, 4]);
    }
  });

  it('fetches an http URL', async () => {
    expect(await relu(await InferenceSession.create(`${base}/relu.onnx`))).toEqual([0, 2, 0, 4]);
    expect(await relu(await InferenceSession.create(new URL('/relu.onnx', base)))).toEqual([0, 2, 0, 4]);
  });

  it('a missing file, an HTTP error or a value that is no model say what to pass', async () => {
    const missing = join(dir, 'nope.onnx');
    await expect(InferenceSession.create(missing)).rejects.toThrow(ArgumentError);
    await expect(InferenceSession.create(missing)).rejects.toThrow(/^cannot read the model file .*nope\.onnx \(ENOENT.*\); pass the model as bytes/);
    await expect(InferenceSession.create(`${base}/gone.onnx`)).rejects.toThrow(/^fetching the model http:\/\/127\.0\.0\.1:\d+\/gone\.onnx gave HTTP 404; check the URL/);
    await expect(InferenceSession.create(42 as unknown as string)).rejects.toThrow(ModelFormatError);
    await expect(InferenceSession.create(42 as unknown as string)).rejects.toThrow('InferenceSession.create got [object Number]; pass the model as bytes (a Uint8Array or ArrayBuffer), a file path or a URL');
  });
});
