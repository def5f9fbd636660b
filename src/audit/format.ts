/**
 * Text renderings of records and reports for the command line: a verification summary, a table
 * of records, and a session played back in order.
 */
import type { AuditRecord } from './record.js';
import { recordOutcome, recordSession, recordSubject, recordTables } from './query.js';
import type { VerifyReport } from './verify.js';

function short(value: unknown, max = 80): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text === undefined) return '';
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function field(r: AuditRecord, ...path: string[]): unknown {
  let v: unknown = r;
  for (const p of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

/** One line saying what a record is about, by kind. */
export function summarize(r: AuditRecord): string {
  const parts: string[] = [];
  const add = (label: string, value: unknown): void => {
    if (value !== undefined && value !== null && value !== '')
      parts.push(`${label}=${short(value)}`);
  };
  switch (r.kind) {
    case 'decision':
      add('outcome', recordOutcome(r));
      add('text', r.text ?? field(r, 'input', 'statement', 'text'));
      add('reasons', r.reasons ?? field(r, 'decision', 'reasons'));
      add('bundle', field(r, 'bundle', 'revision') ?? field(r, 'decision', 'bundle', 'revision'));
      break;
    case 'execution':
      add('tag', r.command_tag ?? r.tag);
      add('rows', r.rows);
      add('us', r.duration_us ?? r.duration);
      add('error', r.error);
      break;
    case 'response':
      add('rows', r.rows);
      add('bytes', r.bytes);
      add('sha256', r.sha256 ?? r.digest);
      add('masked', r.masked);
      break;
    case 'checkpoint':
      add('reason', r.reason);
      add('file', r.file);
      parts.push(typeof r.signature === 'string' ? 'signed' : 'unsigned');
      break;
    default:
      add('event', r.event);
      add('subject', recordSubject(r));
      add('outcome', r.outcome);
  }
  return parts.join(' ');
}

/** A fixed-width table of records (seq, time, kind, subject, session, summary). */
export function formatTable(records: AuditRecord[]): string {
  const rows = records.map((r) => [
    String(r.seq),
    r.time,
    r.kind,
    recordSubject(r) ?? '-',
    recordSession(r) ?? '-',
    recordTables(r).join(',') || '-',
    summarize(r),
  ]);
  const header = ['SEQ', 'TIME', 'KIND', 'SUBJECT', 'SESSION', 'TABLES', 'SUMMARY'];
  const widths = header.map((h, i) =>
    i === header.length - 1 ? 0 : Math.max(h.length, ...rows.map((row) => row[i]!.length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (widths[i] ? c.padEnd(widths[i]!) : c))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** A session played back: each record in order, with recorded result rows when there are any. */
export function formatSession(records: AuditRecord[]): string {
  const out: string[] = [];
  for (const r of records) {
    out.push(`${r.time}  #${r.seq}  ${r.kind.padEnd(9)}  ${summarize(r)}`);
    const rows = r.recorded_rows ?? r.rows_sent;
    if (Array.isArray(rows)) {
      for (const row of rows) out.push(`    ${short(row, 200)}`);
      if (r.rows_truncated) out.push(`    (recording cut at ${String(r.rows_truncated)})`);
    }
  }
  return out.join('\n') + '\n';
}

/** A verification report as text: the verdict first, then faults and warnings. */
export function formatVerifyReport(report: VerifyReport): string {
  const out: string[] = [];
  const verdict = report.ok ? 'OK' : 'FAILED';
  out.push(
    `${verdict}: ${report.records} records in ${report.files} files, ` +
      `${report.checkpoints} checkpoints, ${report.signaturesVerified} signatures verified`,
  );
  for (const c of report.chains) {
    out.push(`chain ${c.instance || '(file)'}: seq ${c.firstSeq ?? '-'}..${c.lastSeq ?? '-'}`);
  }
  for (const f of report.faults) {
    const where = [
      f.file,
      f.line !== null ? `line ${f.line}` : null,
      f.seq !== null ? `seq ${f.seq}` : null,
    ]
      .filter(Boolean)
      .join(' ');
    out.push(`fault: ${where}: ${f.message}`);
  }
  for (const w of report.warnings) out.push(`warning: ${w}`);
  return out.join('\n') + '\n';
}
