// The pass-manager options as they arrive from the command line (--disable-pass, ...),
// turned into OptimizeOptions. Lives beside the pass manager so that backends honour the
// same flags without depending on the CLI.
import type { OptimizeOptions } from './manager.js';

export function passOptions(values: Readonly<Record<string, unknown>>): OptimizeOptions {
  const split = (v: unknown) => ((v as string[] | undefined) ?? []).flatMap((s) => s.split(',')).filter(Boolean);
  return {
    printAfterAll: !!values['print-ir-after-all'],
    printAfter: split(values['print-ir-after']),
    timePasses: !!values['time-passes'],
    verifyEach: !!values['verify-each'],
    disable: split(values['disable-pass']),
    log: (s: string) => process.stderr.write(s.endsWith('\n') ? s : s + '\n'),
  };
}
