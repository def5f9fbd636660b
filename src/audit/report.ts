/**
 * The evidence report for an assessor: one self-contained HTML page over a period, built from
 * the trail alone. Each section names the PCI DSS v4.0 requirement 10.2 event type it evidences.
 */
import { readTrail, recordDecisionId, recordOutcome, recordSubject } from './query.js';
import type { AuditRecord } from './record.js';
import { verifyAudit, type VerifyOptions, type VerifyReport } from './verify.js';

/** Options of {@link buildEvidenceReport}. */
export interface EvidenceReportOptions extends VerifyOptions {
  since?: Date;
  until?: Date;
  /** Rows listed per table before the rest is counted only. Default 500. */
  maxRows?: number;
}

const esc = (value: unknown): string =>
  String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function text(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
}

function table(headers: string[], rows: unknown[][], max: number): string {
  if (rows.length === 0) return '<p class="none">None in this period.</p>';
  const head = headers.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows
    .slice(0, max)
    .map((r) => `<tr>${r.map((c) => `<td>${esc(text(c))}</td>`).join('')}</tr>`)
    .join('\n');
  const more = rows.length > max ? `<p>${rows.length - max} more rows not listed.</p>` : '';
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>${more}`;
}

function section(id: string, title: string, pci: string, body: string): string {
  const heading = `<h2>${esc(title)}</h2><p class="pci">${esc(pci)}</p>`;
  return `<section id="${id}">${heading}${body}</section>`;
}

interface Collected {
  subjects: Map<string, Record<string, number>>;
  masked: unknown[][];
  denied: unknown[][];
  authFailures: unknown[][];
  approvals: unknown[][];
  bundles: Map<string, { revision: unknown; from: string; to: string; decisions: number }>;
  lifecycle: unknown[][];
}

function collect(r: AuditRecord, c: Collected): void {
  const subject = recordSubject(r) ?? '(unknown)';
  const d = (typeof r.decision === 'object' && r.decision !== null ? r.decision : r) as Record<
    string,
    unknown
  >;
  if (r.kind === 'decision') {
    const outcome = recordOutcome(r) ?? 'unknown';
    const counts = c.subjects.get(subject) ?? { allow: 0, deny: 0, approval: 0, masked: 0 };
    counts[outcome] = (counts[outcome] ?? 0) + 1;
    // The decision masks every column the identity may not see; the report names those of the
    // tables this statement reads.
    const read = Array.isArray(r.tables) ? new Set(r.tables.map(String)) : null;
    const masked = Object.keys((d.mask as Record<string, unknown> | undefined) ?? {}).filter(
      (column) => !read || read.has(column.slice(0, column.lastIndexOf('.'))),
    );
    if (masked.length > 0) {
      counts.masked = (counts.masked ?? 0) + 1;
      c.masked.push([r.time, subject, r.text, masked.join(', '), recordDecisionId(r)]);
    }
    c.subjects.set(subject, counts);
    if (outcome === 'deny') {
      c.denied.push([r.time, subject, r.text, d.reasons, recordDecisionId(r)]);
    }
    const bundle = (r.bundle ?? d.bundle) as { hash?: string; revision?: unknown } | undefined;
    if (bundle?.hash) {
      const seen = c.bundles.get(bundle.hash);
      if (seen) {
        seen.to = r.time;
        seen.decisions++;
      } else {
        c.bundles.set(bundle.hash, {
          revision: bundle.revision,
          from: r.time,
          to: r.time,
          decisions: 1,
        });
      }
    }
  } else if (r.kind === 'auth' || (r.kind === 'session' && r.event === 'auth_failed')) {
    const failed =
      r.outcome === 'failure' || r.outcome === 'locked' || r.outcome === 'denied' || r.ok === false;
    if (failed) c.authFailures.push([r.time, subject, r.client_addr, r.reason ?? r.error]);
  } else if (r.kind === 'approval') {
    c.approvals.push([r.time, r.event, subject, r.approver ?? r.approvers, r.request, r.comment]);
  } else if (r.kind === 'checkpoint' && r.reason !== 'count' && r.reason !== 'time') {
    c.lifecycle.push([r.time, `audit file ${String(r.reason)}`, r.file ?? '', r.failure ?? '']);
  } else if (r.kind === 'gateway' || r.kind === 'bundle') {
    const stamp = r.bundle as { revision?: unknown } | undefined;
    c.lifecycle.push([r.time, `${r.kind} ${text(r.event)}`, stamp?.revision ?? '', r.error]);
  }
}

function verification(report: VerifyReport): string {
  const verdict = report.ok ? 'PASSED' : 'FAILED';
  const rows = [
    ...report.faults.map((f) => ['fault', f.file, f.line, f.seq, f.message]),
    ...report.warnings.map((w) => ['warning', '', '', '', w]),
  ];
  return (
    `<p class="verdict ${report.ok ? 'ok' : 'bad'}">Verification ${verdict}: ` +
    `${report.records} records in ${report.files} files, ${report.checkpoints} checkpoints, ` +
    `${report.signaturesVerified} signatures verified.</p>` +
    table(['', 'file', 'line', 'seq', 'detail'], rows, 100)
  );
}

const STYLE = `body{font:14px system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 6px;
text-align:left;vertical-align:top}th{background:#f3f3f3}.pci{color:#555;font-style:italic}
.ok{color:#075}.bad{color:#b00}.none{color:#777}`;

/** Builds the HTML evidence report for the trail at `path` over `since`..`until`. */
export async function buildEvidenceReport(
  path: string,
  options: EvidenceReportOptions = {},
): Promise<string> {
  const max = options.maxRows ?? 500;
  const c: Collected = {
    subjects: new Map(),
    masked: [],
    denied: [],
    authFailures: [],
    approvals: [],
    bundles: new Map(),
    lifecycle: [],
  };
  const from = options.since?.getTime() ?? -Infinity;
  const to = options.until?.getTime() ?? Infinity;
  for await (const r of readTrail(path)) {
    const t = Date.parse(r.time);
    if (t >= from && t < to) collect(r, c);
  }
  const verify = await verifyAudit(path, options);
  const start = options.since?.toISOString() ?? 'the start';
  const period = `${start} to ${options.until?.toISOString() ?? 'now'}`;
  const identities = [...c.subjects].map(([s, n]) => [s, n.allow, n.deny, n.approval, n.masked]);
  const bundles = [...c.bundles].map(([hash, b]) => [hash, b.revision, b.from, b.to, b.decisions]);
  const sections = [
    section(
      'verification',
      'Integrity of the trail',
      'PCI DSS 10.3.2 and 10.3.4 (audit logs protected from modification; changes detected)',
      verification(verify),
    ),
    section(
      'identities',
      'Statements per identity, by outcome',
      'PCI DSS 10.2.1.1 (individual access to cardholder data); 10.2.2 (user, event, outcome)',
      table(
        ['identity', 'allowed', 'denied', 'held for approval', 'with masked columns'],
        identities,
        max,
      ),
    ),
    section(
      'masked',
      'Reads of cardholder data (masked columns)',
      'PCI DSS 10.2.1.1 (all individual access to cardholder data)',
      table(['time', 'identity', 'statement', 'masked columns', 'decision'], c.masked, max),
    ),
    section(
      'denied',
      'Refused statements and failed authentication',
      'PCI DSS 10.2.1.4 (invalid logical access attempts)',
      '<h3>Refused statements</h3>' +
        table(['time', 'identity', 'statement', 'reasons', 'decision'], c.denied, max) +
        '<h3>Failed authentication</h3>' +
        table(['time', 'identity', 'client', 'reason'], c.authFailures, max),
    ),
    section(
      'approvals',
      'Approvals and their approvers',
      'PCI DSS 10.2.1.2 (actions by individuals with administrative access)',
      table(['time', 'event', 'identity', 'approver', 'request', 'comment'], c.approvals, max),
    ),
    section(
      'bundles',
      'Policy bundles in force',
      'PCI DSS 10.2.2 (identity of the rule that decided each event)',
      table(
        ['bundle hash', 'revision', 'first decision', 'last decision', 'decisions'],
        bundles,
        max,
      ),
    ),
    section(
      'lifecycle',
      'Audit trail and gateway start, stop and recovery',
      'PCI DSS 10.2.1.6 (initialization, starting, stopping and pausing of audit logs)',
      table(['time', 'event', 'file / revision', 'failure'], c.lifecycle, max),
    ),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pgwarden audit evidence</title>
<style>${STYLE}</style></head><body>
<h1>pgwarden audit evidence</h1>
<p>Trail: ${esc(path)}. Period: ${esc(period)}. Generated ${esc(new Date().toISOString())}.</p>
${sections.join('\n')}
</body></html>
`;
}
