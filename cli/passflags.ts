// The pass-manager flags shared by `vovc ir`, `run` and `build`, turned into the driver's
// pipeline options.
import type { PipelineOptions } from '../src/driver/pipeline.js';
import { fail } from '../src/diag/diagnostics.js';
import { PRECISIONS, isPrecision } from '../src/ir/precision.js';
import type { Options } from './common.js';

export const PASS_OPTIONS: Options = {
  'print-ir-after-all': { type: 'boolean' },
  'print-ir-after': { type: 'string', multiple: true },
  'time-passes': { type: 'boolean' },
  'verify-each': { type: 'boolean' },
  'disable-pass': { type: 'string', multiple: true },
  report: { type: 'string' },
  precision: { type: 'string' },
};

export const PASS_HELP = `  --print-ir-after-all     print the IR after every pass (stderr)
  --print-ir-after=PASS    print the IR after the named pass(es)
  --time-passes            time each pass
  --verify-each            verify the IR after every pass and the kernel plan after planning
  --disable-pass=NAME      skip a pass
  --precision=P            fp32 (default), tf32, fp16 or bf16 (docs/PRECISION.md; each target's list below)`;

/** `--report` alone means `--report=text` (parseArgs needs a value for string options). */
export function normalizeReportFlag(args: string[]): string[] {
  return args.map((a) => (a === '--report' ? '--report=text' : a));
}

export function pipelineOptions(values: Readonly<Record<string, unknown>>): PipelineOptions {
  const precision = values.precision === undefined ? 'fp32' : String(values.precision);
  if (!isPrecision(precision)) fail('E8005', `unknown precision '${precision}' (precisions: ${PRECISIONS.join(', ')})`, { subject: '--precision' });
  const split = (v: unknown) => ((v as string[] | undefined) ?? []).flatMap((s) => s.split(',')).filter(Boolean);
  return {
    passes: {
      printAfterAll: !!values['print-ir-after-all'],
      printAfter: split(values['print-ir-after']),
      timePasses: !!values['time-passes'],
      disable: split(values['disable-pass']),
      log: (s: string) => process.stderr.write(s.endsWith('\n') ? s : s + '\n'),
    },
    verifyEach: !!values['verify-each'],
    precision,
  };
}
