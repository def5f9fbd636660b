// Compact, exact summaries of statement facts for table-driven tests: every field is present in
// the summary unless it is empty, so comparing summaries with toEqual compares all facts.
import type { StatementFacts } from '../../src/sql/index.js';

/** A one-level object describing facts; empty fields are left out. */
export type Summary = Record<string, unknown>;

/** `name<-[sources]` plus `W<tables>` for whole rows, `!` when exact and `?` when unknown. */
export function outputSummary(o: StatementFacts['outputs'][number]): string {
  const whole = o.wholeRow.length > 0 ? `W${o.wholeRow.join(',')}` : '';
  return `${o.name}<-[${o.sources.join(',')}]${whole}${o.exact ? '!' : ''}${o.unknown ? '?' : ''}`;
}

/** Summarises facts for comparison. */
export function summarize(f: StatementFacts): Summary {
  const s: Summary = {
    kind: f.kind,
    tag: f.commandTag,
    tables: f.tables.map((t) => `${t.schema}.${t.name}:${t.operations.join('+')}`).join(' '),
    read: f.columns.read.join(' '),
    written: f.columns.written.join(' '),
    filtered: f.columns.filtered.join(' '),
    functions: f.functions.join(' '),
    copy: f.copy,
    where: f.where,
    limit: f.limit,
    copiesData: f.copiesData,
    outputs: f.outputs.map(outputSummary).join(' ; '),
    handle: f.handle,
  };
  for (const key of Object.keys(s)) {
    if (s[key] === '' || s[key] === null || s[key] === false || s[key] === undefined) delete s[key];
  }
  return s;
}
