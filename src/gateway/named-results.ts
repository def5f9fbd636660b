/**
 * Results that come back under another statement's name: `FETCH` from a cursor made by
 * `DECLARE`, and SQL `EXECUTE` of a statement made by SQL `PREPARE`. The FETCH or EXECUTE
 * itself shows no tables, so its own decision cannot know what to mask; the gateway carries the
 * masks and lineage of the DECLARE or PREPARE over to it, so rows are masked all the same.
 */
import type { ExecutableStatement } from './results.js';

// DECLARE name [BINARY] [ASENSITIVE|INSENSITIVE] [[NO] SCROLL] CURSOR ... / PREPARE name [(types)]
const DECLARE = /^\s*DECLARE\s+("(?:[^"]|"")+"|[^\s"(;]+)/i;
const PREPARE = /^\s*PREPARE\s+("(?:[^"]|"")+"|[^\s"(;]+)/i;
// FETCH/MOVE [direction] [FROM|IN] name: the cursor is the last name. EXECUTE name [(args)].
const FETCH = /^\s*(?:FETCH|MOVE)\b[\s\S]*?("(?:[^"]|"")+"|[^\s";]+)\s*;?\s*$/i;
const EXECUTE = /^\s*EXECUTE\s+("(?:[^"]|"")+"|[^\s"(;]+)/i;

/** Normalises an SQL identifier: quoted keeps its case, unquoted folds to lower case. */
function identifier(raw: string): string {
  return raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw.toLowerCase();
}

/** Remembers masked DECLAREs and PREPAREs of one session by name. */
export class NamedResults {
  private readonly cursors = new Map<string, ExecutableStatement>();
  private readonly prepared = new Map<string, ExecutableStatement>();

  /**
   * Records `statement` when it names a cursor or prepared statement, and returns the statement
   * to run: a FETCH or EXECUTE of a masked name gets that name's masks and lineage added.
   */
  apply(statement: ExecutableStatement): ExecutableStatement {
    const text = statement.facts.text;
    const declared = DECLARE.exec(text) ?? null;
    if (declared) {
      this.cursors.set(identifier(declared[1]!), statement);
      return statement;
    }
    const prepared = PREPARE.exec(text);
    if (prepared) {
      this.prepared.set(identifier(prepared[1]!), statement);
      return statement;
    }
    const fetch = /^\s*(FETCH|MOVE)\b/i.test(text) ? FETCH.exec(text) : null;
    const source = fetch
      ? this.cursors.get(identifier(fetch[1]!))
      : (() => {
          const executed = EXECUTE.exec(text);
          return executed ? this.prepared.get(identifier(executed[1]!)) : undefined;
        })();
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
