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

export { passOptions } from '../src/passes/options.js';
