// The CLI's failure contract: one line `edgeprune: <message>` on stderr, exit 1 for a problem with
// the user's files or model, 2 for a malformed command line; a stack trace only when debugging.
import { CommanderError } from 'commander';
import { EdgepruneError } from '../errors.js';

/** A problem with what the user asked for (files, names, dtypes): exit code 1. */
export class CliError extends EdgepruneError {
  constructor(message: string) {
    super('E_CLI', message);
  }
}

/** The command line itself is malformed: exit code 2, like commander's own usage errors. */
export class CliUsageError extends EdgepruneError {
  constructor(message: string) {
    super('E_USAGE', message);
  }
}

export const EXIT_OK = 0;
export const EXIT_USER = 1;
export const EXIT_USAGE = 2;

interface ErrnoLike {
  code: string;
  path?: string;
  syscall?: string;
  message: string;
}

function isErrno(e: unknown): e is ErrnoLike {
  const code = e instanceof Error ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EEXIST: 'a file with that name exists',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
};

/** "cannot read FILE: no such file" from a Node fs error. */
export function describeFsError(e: ErrnoLike, verb: 'read' | 'write' | 'create directory', path = e.path ?? '?'): string {
  return `cannot ${verb} ${path}: ${ERRNO_TEXT[e.code] ?? e.message}`;
}

/** Wraps a Node fs error into a CliError saying what could not be done to which file. */
export function fsFailure(e: unknown, verb: 'read' | 'write' | 'create directory', path: string): unknown {
  return isErrno(e) ? new CliError(describeFsError(e, verb, path)) : e;
}

export interface ErrorOutput {
  write(text: string): void;
}

/**
 * Prints the one-line report (and the stack when debugging); returns the exit code. `json`: the
 * command was asked for JSON, which then also goes to that output as {"error": {code, message}},
 * so a script parsing stdout gets JSON either way.
 */
export function reportError(e: unknown, stderr: ErrorOutput, debug: boolean, json?: ErrorOutput): number {
  let message: string;
  let code: number;
  if (e instanceof CommanderError) {
    message = e.message.replace(/^error: /, '');
    code = EXIT_USAGE;
  } else if (e instanceof CliUsageError) {
    message = e.message;
    code = EXIT_USAGE;
  } else if (e instanceof EdgepruneError) {
    message = e.message;
    code = EXIT_USER;
  } else if (isErrno(e)) {
    // the CLI wraps its own fs calls with fsFailure; this is the fallback for any other
    const verb = e.syscall === 'mkdir' ? 'create directory' : e.syscall?.startsWith('write') ? 'write' : 'read';
    message = describeFsError(e, verb);
    code = EXIT_USER;
  } else {
    const text = e instanceof Error ? e.message : String(e);
    message = `internal error: ${text}${debug ? '' : ' (run again with --debug for the stack trace, and please report it)'}`;
    code = EXIT_USER;
  }
  stderr.write(`edgeprune: ${oneLine(message)}\n`);
  const errorCode = e instanceof EdgepruneError ? e.code : e instanceof CommanderError ? 'E_USAGE' : 'E_INTERNAL';
  json?.write(`${JSON.stringify({ error: { code: errorCode, message: oneLine(message) } }, null, 2)}\n`);
  if (debug && e instanceof Error && e.stack && !(e instanceof CommanderError)) stderr.write(`${e.stack}\n`);
  return code;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
