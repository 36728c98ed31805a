// --sweep key=a..b | key=a,b,c: the axes of a parameter sweep and their Cartesian product.
// Each variant is a list of --set assignments, so a sweep can vary any key the DSL's --set
// accepts (docs/DSL.md), and the DSL checks the values.

export interface SweepAxis {
  readonly key: string;
  readonly values: readonly string[];
}

/** More variants than this is almost surely a typo in a range (and would take minutes). */
const MAX_VARIANTS = 100_000;

/**
 * Parses one --sweep argument: "stage4.blocks=1..40" (integers, inclusive, either direction),
 * "stage3.mid=128,160,192" (a list; values are passed to --set as written). Returns an error
 * message for malformed text.
 */
export function parseSweep(text: string): SweepAxis | string {
  const eq = text.indexOf('=');
  if (eq <= 0) return `--sweep expects key=a..b or key=a,b,c, got '${text}'`;
  const key = text.slice(0, eq).trim();
  const spec = text.slice(eq + 1).trim();
  const range = /^(-?\d+)\s*\.\.\s*(-?\d+)$/.exec(spec);
  if (range) {
    const a = Number(range[1]);
    const b = Number(range[2]);
    const n = Math.abs(b - a) + 1;
    if (n > MAX_VARIANTS) return `--sweep ${key}: the range ${a}..${b} has ${n} values (at most ${MAX_VARIANTS})`;
    const step = a <= b ? 1 : -1;
    return { key, values: Array.from({ length: n }, (_, i) => String(a + i * step)) };
  }
  if (spec.includes('..')) return `--sweep ${key}: a range is two integers a..b, got '${spec}'`;
  const values = spec.split(',').map((v) => v.trim());
  if (!spec || values.some((v) => !v)) return `--sweep ${key}: empty value in '${spec}'`;
  return { key, values };
}

/** The Cartesian product of the axes, first axis varying slowest; each variant as key -> value. */
export function expandSweep(axes: readonly SweepAxis[]): Record<string, string>[] | string {
  const seen = new Set<string>();
  for (const a of axes) {
    if (seen.has(a.key)) return `--sweep ${a.key} is given twice`;
    seen.add(a.key);
  }
  const n = axes.reduce((p, a) => p * a.values.length, 1);
  if (n > MAX_VARIANTS) return `the sweep has ${n} variants (at most ${MAX_VARIANTS})`;
  let out: Record<string, string>[] = [{}];
  for (const a of axes) out = out.flatMap((v) => a.values.map((x) => ({ ...v, [a.key]: x })));
  return out;
}
