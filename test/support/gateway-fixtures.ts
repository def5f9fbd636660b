// Test doubles for the gateway's plug-in points. Test code only: the product path uses the real
// identity, sql, policy and audit modules.
import { randomUUID } from 'node:crypto';
import type { AuditKind, AuditSink } from '../../src/audit/types.js';
import { PgwardenError } from '../../src/errors.js';
import type { AuthContext, Identity, IdentityVerifier } from '../../src/identity/types.js';
import type { Decider, Decision, DecisionResult, PolicyInput } from '../../src/policy/types.js';
import type { StatementAnalyzer, StatementFacts } from '../../src/sql/types.js';

/** Accepts tokens `test:<subject>:<group,group>`; anything else fails with ERR_AUTH_FAILED. */
export function testVerifier(seen: AuthContext[] = []): IdentityVerifier {
  return {
    async verify(token: string, context: AuthContext): Promise<Identity> {
      seen.push(context);
      const match = /^test:([^:]+):?(.*)$/.exec(token);
      if (!match) throw new PgwardenError('ERR_AUTH_FAILED', 'token is not a test token');
      return {
        subject: match[1]!,
        issuer: 'https://test.invalid',
        groups: match[2] ? match[2].split(',') : [],
        claims: { sub: match[1] },
        kind: 'oidc',
      };
    },
  };
}

/** A decider from a function returning part of a decision (allow defaults to true). */
export function functionDecider(
  decide: (input: PolicyInput) => Partial<Decision> = () => ({}),
): Decider & { inputs: PolicyInput[] } {
  const inputs: PolicyInput[] = [];
  return {
    inputs,
    decide(input: PolicyInput): DecisionResult {
      inputs.push(structuredClone(input));
      return {
        allow: true,
        reasons: [],
        mask: {},
        approval: null,
        rowLimit: null,
        byteLimit: null,
        ...decide(input),
        id: `d-${randomUUID()}`,
        bundle: { hash: 'test', revision: 'test' },
        evalMicros: 1,
      };
    },
  };
}

/** An audit sink that keeps records in memory; `failing` makes append reject. */
export class MemoryAudit implements AuditSink {
  readonly records: Array<{ kind: AuditKind } & Record<string, unknown>> = [];
  failing = false;

  get failed(): boolean {
    return false;
  }

  async append(kind: AuditKind, fields: Record<string, unknown>): Promise<void> {
    if (this.failing) throw new PgwardenError('ERR_AUDIT_WRITE', 'audit disk full');
    this.records.push({ kind, ...fields });
  }

  of(kind: AuditKind): Array<Record<string, unknown>> {
    return this.records.filter((r) => r.kind === kind);
  }
}

/**
 * Splits on semicolons outside quotes and classifies each statement by its first keyword. Tables
 * are the words after FROM, INTO, UPDATE, JOIN, TABLE and COPY, in schema `public`.
 */
export function keywordAnalyzer(): StatementAnalyzer {
  return {
    async analyze(text: string): Promise<StatementFacts[]> {
      return splitStatements(text).map(facts);
    },
  };
}

function splitStatements(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote: string | null = null;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === ';') {
      if (current.trim()) out.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  if (quote) throw new PgwardenError('ERR_SQL_PARSE', 'unterminated quoted string');
  if (current.trim()) out.push(current.trim());
  return out;
}

function facts(text: string): StatementFacts {
  const keyword = /^\s*([a-z]+)/i.exec(text)?.[1]?.toLowerCase() ?? '';
  if (!keyword) throw new PgwardenError('ERR_SQL_UNCLASSIFIED', 'unknown statement');
  const tables = [
    ...text.matchAll(/\b(?:from|into|update|join|table|copy)\s+([a-z_][a-z0-9_.]*)/gi),
  ]
    .map((m) => m[1]!.toLowerCase())
    .filter((name) => !['only', 'stdin', 'stdout'].includes(name))
    .map((name) => {
      const [schema, table] = name.includes('.') ? name.split('.') : ['public', name];
      return { schema: schema!, name: table!, operations: ['read' as const] };
    });
  const copy = keyword === 'copy';
  const handle = handleOf(keyword, text);
  return {
    ...(handle === undefined ? {} : { handle }),
    kind: keyword,
    commandTag: keyword === 'discard' ? text.trim().toUpperCase() : keyword.toUpperCase(),
    tables,
    columns: { read: [], written: [], filtered: [], computed: [] },
    // Words followed by a parenthesis, taken as catalog functions.
    functions: [...text.matchAll(/\b([a-z_][a-z0-9_]*)\s*\(/gi)]
      .map((m) => `pg_catalog.${m[1]!.toLowerCase()}`)
      .filter((f) => !/\.(values|in|exists|table|into)$/.test(f)),
    copy: copy
      ? {
          direction: /\bfrom\b/i.test(text) ? 'from' : 'to',
          target: /\bprogram\b/i.test(text)
            ? 'program'
            : /\bstdin\b/i.test(text)
              ? 'stdin'
              : 'stdout',
          file: null,
          program: null,
          query: false,
        }
      : null,
    where: /\bwhere\b/i.test(text),
    limit: null,
    outputs: [],
    copiesData: false,
    text,
    fingerprint: keyword,
  };
}

/**
 * The name a statement acts on, like the real analyzer's `handle`: the setting of SET, RESET and
 * SHOW (none for RESET ALL), the cursor of DECLARE and FETCH, the statement of PREPARE and
 * EXECUTE. Unquoted names fold to lower case.
 */
function handleOf(keyword: string, text: string): string | undefined {
  const words = text.trim().split(/[\s(;]+/);
  if (keyword === 'set' || keyword === 'reset' || keyword === 'show') {
    const rest = words.slice(1).filter((w) => !/^(session|local)$/i.test(w));
    if (/^session$/i.test(words[1] ?? '') && /^authorization$/i.test(words[2] ?? '')) {
      return 'session_authorization';
    }
    const name = rest[0]?.toLowerCase();
    return name === 'all' ? undefined : name;
  }
  if (keyword === 'fetch' || keyword === 'move') return name(words[words.length - 1]);
  if (['declare', 'prepare', 'execute'].includes(keyword)) return name(words[1]);
  return undefined;
}

function name(word: string | undefined): string | undefined {
  if (word === undefined) return undefined;
  return word.startsWith('"') ? word.slice(1, -1) : word.toLowerCase();
}
