// File access for the CLI: every failure becomes a one-line CliError naming the file.
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { CliError, fsFailure } from './errors.js';

export async function readBytes(path: string): Promise<Uint8Array> {
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw fsFailure(e, 'read', path);
  }
}

/**
 * Writes the file whole or not at all: into a temporary file beside it, then renamed over it. A
 * run killed while writing (Ctrl-C after minutes of fit, a closed pipe) leaves the previous file
 * as it was, not truncated.
 */
export async function writeBytes(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.partial`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {});
    throw fsFailure(e, 'write', path);
  }
}

/** Creates dir (and parents) unless it exists; a file in its place is an error. */
export async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw fsFailure(e, 'create directory', dir);
  }
  const s = await stat(dir).catch((e: unknown) => {
    throw fsFailure(e, 'create directory', dir);
  });
  if (!s.isDirectory()) throw new CliError(`cannot create directory ${dir}: a file with that name exists`);
}

export async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}
