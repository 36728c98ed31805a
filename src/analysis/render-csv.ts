// CSV (RFC 4180): a header row, then one row per group of every model and one "total" row
// per model; CRLF line ends; fields holding a comma, quote or line break are quoted, quotes
// doubled; numbers plain (no thousands separators, no units: the header names carry them).
// The delta columns compare each row with the same group of the first model (blank where
// that model has no such group).

import type { GroupRow } from './analyze.js';
import { groupColumns } from './columns.js';
import type { AnalysisReport } from './report.js';

function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(12)))) : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const DELTA_COLUMNS = [
  { csv: 'delta_params', get: (r: GroupRow) => r.params },
  { csv: 'delta_mult_adds', get: (r: GroupRow) => r.macs },
  { csv: 'delta_memory_access_cost', get: (r: GroupRow) => r.memAccess },
  { csv: 'delta_bytes_op_by_op', get: (r: GroupRow) => r.bytesOps },
] as const;

export function renderCsv(r: AnalysisReport): string {
  const cols = groupColumns(r);
  const deltaCols: { csv: string; get: (g: GroupRow) => number | null }[] = [...DELTA_COLUMNS];
  if (r.fused) deltaCols.push({ csv: 'delta_bytes_fused', get: (g) => g.bytesFused });
  if (r.roofline) deltaCols.push({ csv: 'delta_roofline_time_s', get: (g) => g.roofline?.timeS ?? null });
  const header = ['model', 'variant', 'input', 'group_by', ...cols.map((c) => c.csv), ...deltaCols.map((d) => d.csv)];
  const lines = [header.map(csvField).join(',')];
  const first = r.models[0];
  const firstRows = new Map<string, GroupRow>(first.groups.map((g) => [g.key, g]));
  firstRows.set('total', first.totals);
  for (const m of r.models) {
    const variant = Object.entries(m.set).map(([k, v]) => `${k}=${v}`).join(' ');
    const input = m.input.join('x');
    const rows: GroupRow[] = [...m.groups, m.totals];
    for (const g of rows) {
      const base = firstRows.get(g.key);
      const deltas = deltaCols.map((d) => {
        const a = d.get(g);
        const b = base ? d.get(base) : null;
        return a === null || b === null ? null : a - b;
      });
      const fields = [m.model, variant, input, g === m.totals ? 'total' : r.groupBy, ...cols.map((c) => c.get(g)), ...deltas];
      lines.push(fields.map(csvField).join(','));
    }
  }
  return lines.join('\r\n') + '\r\n';
}
