// The pass-manager flags shared by `vovc ir`, `run` and `build`.
import type { Options } from './common.js';

export const PASS_OPTIONS: Options = {
  'print-ir-after-all': { type: 'boolean' },
  'print-ir-after': { type: 'string', multiple: true },
  'time-passes': { type: 'boolean' },
  'verify-each': { type: 'boolean' },
  'disable-pass': { type: 'string', multiple: true },
  report: { type: 'string' },
};

/** `--report` alone means `--report=text` (parseArgs needs a value for string options). */
export function normalizeReportFlag(args: string[]): string[] {
  return args.map((a) => (a === '--report' ? '--report=text' : a));
}

export function passOptions(values: Record<string, unknown>) {
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
