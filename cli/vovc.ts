#!/usr/bin/env node
// vovc command-line entry. Argument parsing only; the work is done by the library. Commands
// are loaded lazily (cli/commands/<name>.js), so `vovc list` does not load the backends.
//
// Exit codes: 0 success; 1 user error with a diagnostic; 2 malformed command line;
// 3 the target cannot run on this machine.

import { VovcError, formatDiagnostics } from '../src/diag/diagnostics.js';
import { UsageError } from './usage.js';
import type { Command } from './common.js';

const COMMANDS: Record<string, { summary: string }> = {
  list: { summary: 'list the zoo models with their parameter counts' },
  check: { summary: 'parse, lower and verify a model; print diagnostics' },
  ir: { summary: 'print the graph IR (--opt: optimized, --report: fusion report)' },
  run: { summary: 'run a model on an input (.npy or --image) with a target' },
  build: { summary: 'write a deployable artifact (--target onnx|cuda|wgsl)' },
  compare: { summary: 'compare layer outputs with a PyTorch hook dump; name the first module that diverges' },
  bench: { summary: 'time forward passes on a target with a stated method (median, IQR, machine)' },
  analyze: { summary: 'FLOPs, MACs, memory access cost, bytes moved, roofline; compare variants' },
  weights: { summary: 'inspect or convert checkpoint files' },
};

function usage(): string {
  const lines = ['usage: vovc <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(9)} ${c.summary}`);
  lines.push('', 'vovc <command> --help for the options of a command; --debug shows stack traces.');
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  const [name, ...rest] = argv;
  try {
    if (!name || name === '--help' || name === '-h' || name === 'help') {
      process.stdout.write(usage() + '\n');
      return name ? 0 : 2;
    }
    if (name === '--version' || name === '-V') {
      const { VERSION } = await import('../src/version.js');
      process.stdout.write(`vovc ${VERSION}\n`);
      return 0;
    }
    if (!(name in COMMANDS)) throw new UsageError(`unknown command '${name}'\n\n${usage()}`);
    const mod = (await import(`./commands/${name}.js`)) as { command: Command };
    return await mod.command.run(rest.filter((a) => a !== '--debug'));
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`vovc: ${e.message}\n`);
      return 2;
    }
    if (e instanceof VovcError) {
      for (const t of formatDiagnostics(e.diagnostics, e.sources)) process.stderr.write(t + '\n');
      if (debug) process.stderr.write(`${e.stack}\n`);
      return e.exitCode;
    }
    const err = e as NodeJS.ErrnoException;
    if (!debug && err && typeof err.code === 'string' && err.syscall) {
      // File-system errors are user errors: say which file and why, without a stack.
      process.stderr.write(`vovc: ${err.path ?? ''}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}\n`);
      return 1;
    }
    // An allocation the machine refused (a shape past what it can hold, an address-space limit):
    // a user-facing condition, said in one line (an engine message may carry a stack of its own).
    if (!debug && e instanceof RangeError && /allocation failed|Invalid typed array length|Invalid array buffer length|Maximum memory size|out of memory|Array buffer allocation/i.test(e.message)) {
      process.stderr.write(`vovc: out of memory: ${e.message.split('\n')[0]}; the shapes need more memory than this process can have (vovc run checks an estimate against --max-memory first; see docs/HARDENING.md)\n`);
      return 1;
    }
    process.stderr.write(`vovc: internal error: ${err?.message ?? String(e)}\n`);
    if (debug) process.stderr.write(`${err?.stack}\n`);
    else process.stderr.write('(run again with --debug for the stack trace, and please report it)\n');
    return 70;
  }
}

// `vovc list | head` closes the pipe early: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

/** Resolves once everything written to `s` so far has reached the OS (pipes can be async). */
function flushed(s: NodeJS.WriteStream): Promise<void> {
  return new Promise((res) => s.write('', () => res()));
}

main(process.argv.slice(2)).then(
  async (code) => {
    // Exit explicitly, so that a worker pool or a file handle left open cannot keep the CLI
    // alive, but only after stdout and stderr are flushed: a pipe that is full makes writes
    // asynchronous, and exiting then would cut `vovc analyze --format csv | ...` short.
    await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
    process.exit(code);
  },
  (e) => {
    process.stderr.write(`vovc: ${String(e)}\n`);
    process.exitCode = 70;
  },
);
