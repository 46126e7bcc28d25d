// What a command needs from its surroundings; main() fills it from process or from a test.
import type { CliRuntime } from './session-types.js';

export interface Output {
  write(text: string): void;
}

export interface CommandContext {
  stdout: Output;
  stderr: Output;
  runtime(): Promise<CliRuntime>;
}
