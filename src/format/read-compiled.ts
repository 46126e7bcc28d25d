// Compiled model bytes → what edgeprune/runtime runs (compiled-layout.ts documents the bytes).
// Nothing is trusted before it is checked: the container (magic, version, length, CRC-32,
// sections), the plan's fields, every image segment and call against its section's end and the
// plan's memory size. Every failure is a ModelFormatError saying what is wrong.
import { ModelFormatError } from '../errors.js';
import { openContainer } from './container.js';
import { COMPILED_VERSION, FORMAT_VERSION, ELASTIC_VERSION, SectionKind } from './layout.js';
import { isArtifact } from './read.js';
import type { CompiledCall, CompiledPlan, CompiledValue } from './compiled-layout.js';

const fail = (what: string): never => {
  throw new ModelFormatError(`malformed compiled model: ${what}`);
};

const MAX_ARGS = 64;
const KINDS = [SectionKind.PLAN, SectionKind.IMAGE, SectionKind.CALLS];

export interface CompiledModel {
  plan: CompiledPlan;
  /** The image section: segments (offset, length, bytes), checked to lie within plan.memoryBytes. */
  image: Uint8Array;
  calls: CompiledCall[];
}

/** Whether the bytes are a compiled model (the .epm magic and version 3): cheap, nothing checked beyond. */
export function isCompiled(bytes: Uint8Array): boolean {
  return isArtifact(bytes) && bytes.length >= 10 && (bytes[8] | (bytes[9] << 8)) === COMPILED_VERSION;
}

export function readCompiled(bytes: Uint8Array): CompiledModel {
  const { section, flags } = openContainer(bytes, fail, (v) => (v === COMPILED_VERSION ? KINDS : undefined), (v) =>
    v === FORMAT_VERSION || v === ELASTIC_VERSION
      ? 'this is a model artifact, not a compiled model: edgeprune/runtime runs models compiled for their input dims; compile it with `npx edgeprune compile MODEL --out MODEL.epc` (or compileModel() in JS), or load it with edgeprune/runtime/dynamic or the full edgeprune package'
      : `unsupported format version ${v}; this edgeprune/runtime reads compiled models of version ${COMPILED_VERSION} (recompile the model with this edgeprune version)`);
  if (flags !== 0) fail(`unknown header flags 0x${flags.toString(16)}`);
  let plan: CompiledPlan;
  try {
    plan = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(section(SectionKind.PLAN)));
  } catch (e) {
    return fail(`the plan section is not UTF-8 JSON (${(e as Error).message})`);
  }
  checkPlan(plan);
  const image = section(SectionKind.IMAGE);
  checkImage(image, plan.memoryBytes);
  return { plan, image, calls: readCalls(section(SectionKind.CALLS), plan) };
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function checkPlan(p: CompiledPlan): void {
  if (p === null || typeof p !== 'object') fail('the plan is not an object');
  if (!Number.isInteger(p.buildId)) fail('plan.buildId is not an integer');
  if (!isCount(p.memoryBytes) || p.memoryBytes % 65536 || p.memoryBytes > 2 ** 32) fail(`plan.memoryBytes ${p.memoryBytes} is not a whole number of 64 KiB pages within 4 GiB`);
  if (!Array.isArray(p.functions) || !p.functions.every((f) => typeof f === 'string')) fail('plan.functions is not a list of names');
  if (!isCount(p.calls)) fail('plan.calls is not a count');
  if (!p.info || typeof p.info !== 'object') fail('plan.info is missing');
  const values = (list: CompiledValue[], what: string) => {
    if (!Array.isArray(list) || !list.length) fail(`plan.${what} is not a non-empty list`);
    for (const v of list) {
      if (!v || typeof v.name !== 'string') fail(`an entry of plan.${what} has no name`);
      if (!Array.isArray(v.dims) || !v.dims.every(isCount)) fail(`${what} '${v.name}' has dims ${JSON.stringify(v.dims)}, not a list of sizes`);
      const n = v.dims.reduce((a, b) => a * b, 1);
      if (v.values !== undefined) {
        if (!Array.isArray(v.values) || v.values.length !== n || !v.values.every((x) => typeof x === 'number')) fail(`constant output '${v.name}' does not hold ${n} numbers`);
      } else if (!isCount(v.ptr) || v.ptr % 4 || v.ptr + 4 * n > p.memoryBytes) fail(`${what} '${v.name}' at ${v.ptr} (${4 * n} bytes) lies outside the ${p.memoryBytes}-byte memory`);
    }
  };
  values(p.inputs, 'inputs');
  values(p.outputs, 'outputs');
}

function checkImage(image: Uint8Array, memoryBytes: number): void {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  for (let at = 0; at < image.length; ) {
    if (at + 8 > image.length) fail(`the image section ends inside a segment header at ${at}`);
    const offset = view.getUint32(at, true), length = view.getUint32(at + 4, true);
    if (offset + length > memoryBytes) fail(`an image segment [${offset}, ${offset + length}) lies outside the ${memoryBytes}-byte memory`);
    at += 8 + length;
    if (at > image.length) fail(`an image segment of ${length} bytes runs past the end of the image section`);
    at = (at + 3) & ~3;
  }
}

function readCalls(bytes: Uint8Array, plan: CompiledPlan): CompiledCall[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const varint = (): number => {
    let v = 0, scale = 1, b: number;
    do {
      if (at >= bytes.length) fail('the calls section ends inside a call');
      b = bytes[at++];
      v += (b & 127) * scale;
      scale *= 128;
      if (scale > 2 ** 56) fail(`an over-long varint in the calls section at ${at}`);
    } while (b & 128);
    return v;
  };
  const calls: CompiledCall[] = [];
  for (let c = 0; c < plan.calls; c++) {
    const fn = varint();
    if (fn >= plan.functions.length) fail(`call ${c} refers to function ${fn}, but the plan names ${plan.functions.length}`);
    const argc = varint();
    if (argc > MAX_ARGS) fail(`call ${c} has ${argc} arguments; no kernel takes more than ${MAX_ARGS}`);
    const args: number[] = new Array(argc);
    for (let i = 0; i < argc; i++) {
      const v = varint();
      if (v % 2 === 0) args[i] = v / 2;
      else if (v !== 1) fail(`call ${c} has an argument of unknown form ${v}`);
      else {
        if (at + 8 > bytes.length) fail('the calls section ends inside a number');
        args[i] = view.getFloat64(at, true);
        at += 8;
      }
    }
    calls.push([fn, args]);
  }
  if (at !== bytes.length) fail(`the calls section holds ${bytes.length - at} bytes past its ${plan.calls} calls`);
  return calls;
}
