/**
 * Results that come back under another statement's name: `FETCH` from a cursor made by
 * `DECLARE`, and SQL `EXECUTE` of a statement made by SQL `PREPARE`. The FETCH or EXECUTE
 * itself shows no tables, so its own decision cannot know what to mask; the gateway carries the
 * masks and lineage of the DECLARE or PREPARE over to it, so rows are masked all the same.
 */
import type { ExecutableStatement } from './results.js';

/** Remembers masked DECLAREs and PREPAREs of one session by name. */
export class NamedResults {
  private readonly cursors = new Map<string, ExecutableStatement>();
  private readonly prepared = new Map<string, ExecutableStatement>();

  /**
   * Records `statement` when it names a cursor or prepared statement, and returns the statement
   * to run: a FETCH or EXECUTE of a masked name gets that name's masks and lineage added.
   */
  apply(statement: ExecutableStatement): ExecutableStatement {
    // The analyzer names the cursor or prepared statement as PostgreSQL resolves it (unquoted
    // names folded to lower case), so `FETCH "Cur"` finds `DECLARE "Cur"` and no other.
    const { kind, handle } = statement.facts;
    if (handle === undefined) return statement;
    switch (kind) {
      case 'declare':
        this.cursors.set(handle, statement);
        return statement;
      case 'prepare':
        this.prepared.set(handle, statement);
        return statement;
      case 'close':
        this.cursors.delete(handle);
        return statement;
      case 'deallocate':
        this.prepared.delete(handle);
        return statement;
    }
    const source =
      kind === 'fetch'
        ? this.cursors.get(handle)
        : kind === 'execute'
          ? this.prepared.get(handle)
          : undefined;
    if (!source || Object.keys(source.decision.mask).length === 0) return statement;
    return {
      ...statement,
      facts: { ...statement.facts, outputs: source.facts.outputs },
      decision: {
        ...statement.decision,
        mask: { ...source.decision.mask, ...statement.decision.mask },
      },
      columnName: source.columnName,
    };
  }
}
