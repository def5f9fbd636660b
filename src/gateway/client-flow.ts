/**
 * The client-to-upstream direction of a session: every message is decided before it is sent.
 * Simple Query is analysed and decided statement by statement and forwarded only when all are
 * allowed. Extended protocol decides at Parse and again at Execute only when the bundle or the
 * transaction state changed since.
 *
 * A refusal never just drops the message: the gateway sends upstream, in its place, a statement
 * PostgreSQL rejects while parsing. Upstream then answers with an error at exactly the right
 * place in the response stream, aborts the open transaction block (so a later COMMIT cannot
 * commit earlier statements) and skips to Sync; the response side rewrites that error into the
 * refusal.
 */
import { ProtocolError } from '../wire/errors.js';
import {
  Frontend,
  describeMessage,
  parseBind,
  parseExecute,
  parseMessage,
  parseParse,
  parseQuery,
  parseTarget,
  queryMessage,
  type WireMessage,
} from '../wire/index.js';
import type { CatalogLookup } from './catalog.js';
import {
  isRefusal,
  transactionAfter,
  type DecidedStatement,
  type Refusal,
  type StatementDecider,
} from './decisions.js';
import { maskCardNumbers } from '../masking/index.js';
import type { StatementFacts } from '../sql/types.js';
import { cacheable, DecisionCache, type CacheContext } from './decision-cache.js';
import { statementKey } from './statement-key.js';
import { NamedResults } from './named-results.js';
import type { GatewayOptions } from './options.js';
import { StatementRun, type ExecutableStatement, type RunContext } from './results.js';
import type { ProtocolState } from './state.js';

/** What an analyzer with a catalog offers besides analysis (src/sql's does). */
interface CatalogNames {
  columnName(database: string, oid: number, attnum: number): string | undefined;
  /** Loads the snapshot when it was dropped (after DDL), so columnName can answer. */
  catalog?(database: string): Promise<unknown>;
}

/** Text upstream fails to parse: the stand-in for a refused statement. */
export const REFUSED_SQL = 'PGWARDEN REFUSED';
/** Statement name of the stand-in Parse for a refused Execute (never created upstream). */
export const REFUSED_NAME = 'pgwarden.refused';

/** What the client flow needs from its session. */
export interface ClientFlowHost {
  readonly options: GatewayOptions;
  readonly state: ProtocolState;
  readonly decider: StatementDecider;
  readonly catalog: CatalogLookup;
  readonly runContext: RunContext;
  readonly upstreamDatabase: string;
  /** The role assumed with SET ROLE at session start, if any. */
  readonly assumedRole: string | undefined;
  sendUpstream(message: Buffer): void;
  terminate(): void;
}

/** Settings whose change would undo the role pgwarden assumed. */
const ROLE_SETTINGS = new Set(['role', 'session_authorization']);

/**
 * True when a statement would undo the role the session assumed for defence in depth: SET or
 * RESET of the role or session authorization, RESET ALL (no setting named), DISCARD ALL, or a
 * call of set_config (its setting is a value, which the facts do not carry).
 */
function leavesRole(facts: StatementFacts): boolean {
  if (facts.kind === 'set' || facts.kind === 'reset') {
    if (facts.handle === undefined || ROLE_SETTINGS.has(facts.handle)) return true;
  }
  if (facts.commandTag === 'DISCARD ALL') return true;
  return facts.functions.some((f) => f === 'set_config' || f.endsWith('.set_config'));
}

/** Kinds of statement that change the catalog once they run (as src/sql classifies them). */
function isDdl(kind: string): boolean {
  return (
    kind.startsWith('create') ||
    kind === 'alter' ||
    kind === 'drop' ||
    kind === 'import_foreign_schema' ||
    kind === 'comment'
  );
}

/**
 * True when a statement may change search_path: SET or RESET of it, RESET ALL, DISCARD ALL, or
 * set_config (whose setting is a value the facts do not carry).
 */
function changesPath(facts: StatementFacts): boolean {
  return (
    setsPath(facts) || facts.functions.some((f) => f === 'set_config' || f.endsWith('.set_config'))
  );
}

/**
 * Settings later statements depend on: search_path (which tables names mean) and client_encoding
 * (which bytes a masked COPY row is made of). PostgreSQL reports a change only just before its
 * next ReadyForQuery, so statements after one in the same query string or pipeline would be
 * analysed, or masked, under the old value.
 */
const DEPENDED_ON_SETTINGS = new Set(['search_path', 'client_encoding']);

/** True for the statements that change such a setting by their kind alone (not set_config). */
function setsPath(facts: StatementFacts): boolean {
  if (facts.kind === 'set' || facts.kind === 'reset') {
    return facts.handle === undefined || DEPENDED_ON_SETTINGS.has(facts.handle);
  }
  return facts.commandTag === 'DISCARD ALL';
}

/** Handles client messages in order; returns a promise when a decision must be awaited. */
export class ClientFlow {
  /**
   * True after a refusal in extended mode: upstream discards every message until Sync (Query
   * included), so the gateway drops them too instead of deciding what will never run.
   */
  skipToSync = false;
  /** Masks of DECLAREd cursors and SQL-PREPAREd statements, for their FETCH and EXECUTE. */
  private readonly named = new NamedResults();
  /** Decisions reused for statements differing only in compared values; null when off. */
  readonly cache: DecisionCache | null;

  constructor(private readonly host: ClientFlowHost) {
    const options = host.options.decisionCache;
    this.cache = options === false ? null : new DecisionCache(options);
  }

  /** Handles one client message. Throws ProtocolError for a message a client may not send. */
  handle(msg: WireMessage): void | Promise<void> {
    switch (msg.type) {
      case Frontend.Query:
        return this.skipToSync ? undefined : this.query(msg);
      case Frontend.Parse:
        return this.skipToSync ? undefined : this.parse(msg);
      case Frontend.Bind:
        return this.skipToSync ? undefined : this.bind(msg);
      case Frontend.Execute:
        return this.skipToSync ? undefined : this.execute(msg);
      case Frontend.Describe:
        return this.skipToSync ? undefined : this.describe(msg);
      case Frontend.Close:
        return this.skipToSync ? undefined : this.close(msg);
      case Frontend.Sync:
        this.skipToSync = false;
        this.host.state.push({ kind: 'sync' });
        return this.host.sendUpstream(msg.raw);
      case Frontend.Flush:
      case Frontend.CopyData:
      case Frontend.CopyDone:
      case Frontend.CopyFail:
        return this.host.sendUpstream(msg.raw);
      case Frontend.Terminate:
        return this.host.terminate();
      case Frontend.FunctionCall:
        if (this.skipToSync) return;
        return this.refuseQuery({
          code: '0A000',
          message:
            'the function call message is not supported by pgwarden; call the function with SELECT',
        });
      default:
        throw new ProtocolError(`invalid frontend message type ${msg.type}`);
    }
  }

  private async query(msg: WireMessage): Promise<void> {
    const text = parseQuery(msg.body);
    const statements = await this.decide(text, 'simple');
    if (isRefusal(statements)) return this.refuseQuery(statements);
    const runs = statements.map((s) => new StatementRun(s, this.host.runContext));
    const { state } = this.host;
    this.noteEffects(statements);
    state.push({ kind: 'query', runs, index: 0 });
    for (const s of statements)
      state.inTransaction = transactionAfter(s.facts.text, state.inTransaction);
    this.host.sendUpstream(msg.raw);
  }

  private refuseQuery(refusal: Refusal): void {
    this.host.state.push({ kind: 'query', runs: [], index: 0, refusal });
    this.host.sendUpstream(queryMessage(REFUSED_SQL));
  }

  private async parse(msg: WireMessage): Promise<void> {
    const { name, text } = parseParse(msg.body);
    const { state } = this.host;
    const statements = await this.decide(text, 'extended');
    if (isRefusal(statements)) {
      // Like a failed Parse: the unnamed statement is gone, a named one is not created.
      if (name === '') state.predictedStatements.delete('');
      this.refuseExtended(name, statements);
      return;
    }
    const statement = { name, statements };
    state.predictedStatements.set(name, statement);
    state.push({ kind: 'parse', statement });
    this.host.sendUpstream(msg.raw);
  }

  private refuseExtended(name: string, refusal: Refusal): void {
    this.host.state.push({ kind: 'parse', statement: { name, statements: [] }, refusal });
    this.host.sendUpstream(parseMessage(name, REFUSED_SQL));
    this.skipToSync = true;
  }

  private bind(msg: WireMessage): void {
    const bind = parseBind(msg.body);
    const { state } = this.host;
    const portal = {
      name: bind.portal,
      statement: state.predictedStatements.get(bind.statement),
      resultFormats: bind.resultFormats,
    };
    state.predictedPortals.set(bind.portal, portal);
    state.push({ kind: 'bind', portal, statementName: bind.statement });
    this.host.sendUpstream(msg.raw);
  }

  private describe(msg: WireMessage): void {
    const { target, name } = parseTarget(msg.body);
    const { state } = this.host;
    const described =
      target === 'S' ? state.predictedStatements.get(name) : state.predictedPortals.get(name);
    if (described) described.described = true;
    state.push({ kind: 'describe', target, name, swallow: false });
    this.host.sendUpstream(msg.raw);
  }

  private close(msg: WireMessage): void {
    const { target, name } = parseTarget(msg.body);
    const { state } = this.host;
    if (target === 'S') state.predictedStatements.delete(name);
    else state.predictedPortals.delete(name);
    state.push({ kind: 'close', target, name });
    this.host.sendUpstream(msg.raw);
  }

  private async execute(msg: WireMessage): Promise<void> {
    const { portal: portalName } = parseExecute(msg.body);
    const { state } = this.host;
    const portal = state.predictedPortals.get(portalName);
    const prepared = portal?.statement;
    if (!portal || !prepared || prepared.statements.length > 1) {
      // A portal from SQL-level PREPARE or DECLARE, or one whose Bind failed: never decided.
      return this.refuseExtended(REFUSED_NAME, {
        code: '42501',
        message: `statement refused: portal "${portalName}" was not prepared through pgwarden`,
      });
    }
    let statement = prepared.statements[0];
    if (statement && this.stale(statement)) {
      const again = await this.host.decider.redecide(statement, state.inTransaction);
      const resolved = isRefusal(again) ? again : await this.resolveColumns(again);
      if (isRefusal(resolved)) return this.refuseExtended(REFUSED_NAME, resolved);
      statement = resolved;
      prepared.statements[0] = resolved;
    }
    const run = new StatementRun(statement, this.host.runContext);
    const known = portal.described || prepared.described;
    if (run.needsMasking || (run.scans && !known)) {
      // The masker needs the portal's columns; ask for them and keep the answer to ourselves.
      state.push({ kind: 'describe', target: 'P', name: portalName, swallow: true });
      this.host.sendUpstream(describeMessage('P', portalName));
    }
    state.push({ kind: 'execute', run, portal, checked: false });
    if (statement) this.noteEffects([statement]);
    if (statement)
      state.inTransaction = transactionAfter(statement.facts.text, state.inTransaction);
    this.host.sendUpstream(msg.raw);
  }

  /** Notes what forwarded statements change for later ones: search_path, the catalog. */
  private noteEffects(statements: ExecutableStatement[]): void {
    const { state } = this.host;
    for (const { facts } of statements) {
      if (changesPath(facts)) state.changePath();
      if (isDdl(facts.kind)) state.ddlSent = true;
    }
  }

  /**
   * Waits until a search_path change sent earlier is reported, so the next statement is analysed
   * against the schemas it will really use. A change in the same pipeline with no Sync after it
   * cannot be waited for (upstream answers only at Sync): refused.
   */
  private async settlePath(): Promise<Refusal | undefined> {
    const change = this.host.state.pathChange;
    if (!change) return undefined;
    if (change.slot) {
      await change.settled;
      return undefined;
    }
    return {
      code: '0A000',
      message:
        'statement refused: search_path or client_encoding changed earlier in this pipeline; ' +
        'send Sync before statements that depend on it',
    };
  }

  /** A decision is reused only while its decider (bundle) and transaction state still hold. */
  private stale(statement: DecidedStatement): boolean {
    return (
      statement.decider !== this.host.options.decider() ||
      statement.inTransaction !== this.host.state.inTransaction
    );
  }

  private async decide(
    text: string,
    protocol: 'simple' | 'extended',
  ): Promise<ExecutableStatement[] | Refusal> {
    const { decider, state } = this.host;
    // Nearly always nothing to wait for: skip the await then.
    const unsettled = state.pathChange ? await this.settlePath() : undefined;
    if (unsettled) return unsettled;
    const key = this.cache ? statementKey(text) : null;
    const context: CacheContext = {
      searchPath: state.searchPath?.join(',') ?? '',
      decider: this.host.options.decider(),
      inTransaction: state.inTransaction,
      protocol,
      generation: this.host.catalog.generation,
    };
    const entry = key === null ? undefined : this.cache!.lookup(key, context);
    let masked: string | undefined;
    if (entry) {
      masked = maskCardNumbers(text);
      const reused = await decider.reuse(entry, masked);
      if (reused) return isRefusal(reused) ? reused : [reused];
    }
    const facts = await decider.analyze(text, state.searchPath);
    if (isRefusal(facts)) return facts;
    const pathAt = facts.findIndex(setsPath);
    if (pathAt >= 0 && pathAt < facts.length - 1) {
      // The statements after it would be analysed against the old schemas.
      return {
        code: '0A000',
        message:
          'statement refused: a change of search_path or client_encoding must be the last ' +
          'statement of its query string',
      };
    }
    if (this.host.assumedRole && facts.some(leavesRole)) {
      return {
        code: '42501',
        message:
          `statement refused: it would leave the role "${this.host.assumedRole}" ` +
          'that pgwarden assumed',
      };
    }
    const verdict = await decider.decideAll(facts, protocol, state.inTransaction);
    if (!verdict.allowed) return verdict.refusal;
    const out: ExecutableStatement[] = [];
    for (const statement of verdict.statements) {
      const resolved = await this.resolveColumns(statement);
      if (isRefusal(resolved)) return resolved;
      const carried = this.named.apply(resolved);
      if (carried !== resolved && !this.host.options.masker) {
        return {
          code: '42501',
          message:
            'statement refused: its cursor or prepared statement masks columns but masking ' +
            `is not configured (decision ${statement.decision.id})`,
        };
      }
      out.push(carried);
      if (key !== null && verdict.statements.length === 1 && carried === resolved) {
        // Keyed by what actually decided, in case the bundle or state moved during analysis.
        const decided = {
          ...context,
          decider: carried.decider,
          inTransaction: carried.inTransaction,
        };
        const whole = masked ?? maskCardNumbers(text);
        if (cacheable(carried)) this.cache!.store(key, decided, carried, whole);
      }
      // DEALLOCATE and DISCARD drop statements this session cannot name; forget them all.
      if (/^(DEALLOCATE|DISCARD)/.test(statement.facts.commandTag)) {
        state.forgetStatements('predicted');
      }
    }
    return out;
  }

  private async resolveColumns(
    statement: DecidedStatement,
  ): Promise<ExecutableStatement | Refusal> {
    if (Object.keys(statement.decision.mask).length === 0) return statement;
    const database = this.host.upstreamDatabase;
    // The analyzer's catalog snapshot is the one the lineage came from: use it when it has one.
    const analyzer = this.host.options.analyzer as Partial<CatalogNames>;
    if (typeof analyzer.columnName === 'function') {
      const lookup = analyzer.columnName.bind(analyzer);
      try {
        await analyzer.catalog?.(database);
      } catch {
        return {
          code: '42501',
          message:
            'statement refused: columns to mask could not be resolved ' +
            `(decision ${statement.decision.id})`,
        };
      }
      return { ...statement, columnName: (oid, attr) => lookup(database, oid, attr) };
    }
    const tables = statement.facts.tables.map((t) => `${t.schema}.${t.name}`);
    try {
      const names = await this.host.catalog.columns(database, tables);
      return { ...statement, columnName: (oid, attr) => names.get(`${oid}:${attr}`) };
    } catch {
      return {
        code: '42501',
        message:
          'statement refused: columns to mask could not be resolved ' +
          `(decision ${statement.decision.id})`,
      };
    }
  }
}
