/**
 * Turns analysed statements into decisions: builds the policy input, asks the current decider,
 * records every decision in the audit trail before anything is forwarded, and holds statements
 * for approval. Whatever goes wrong here ends in a refusal, never in an unrecorded statement.
 */
import { randomUUID } from 'node:crypto';
import { isPgwardenError } from '../errors.js';
import type { Identity } from '../identity/types.js';
import type { Logger } from '../logger.js';
import type { Decider, DecisionResult, PolicyInput } from '../policy/types.js';
import type { StatementFacts } from '../sql/types.js';
import { noticeResponse } from '../wire/index.js';
import { reusedDecision, reusedFacts, statementText, type CacheEntry } from './decision-cache.js';
import type { GatewayOptions } from './options.js';
import type { ExecutableStatement } from './results.js';

/** An error the client receives instead of running a statement. */
export interface Refusal {
  code: string;
  message: string;
  detail?: string;
}

/** One statement as decided: its facts, the decision, and the decider that made it. */
export interface DecidedStatement {
  id: string;
  facts: StatementFacts;
  decision: DecisionResult;
  decider: Decider;
  inTransaction: boolean;
  /** Allowed only after people approved it: this one statement, never a pattern to reuse. */
  approved?: boolean;
}

/** The outcome for a whole query string: all statements allowed, or the first refusal. */
export type Verdict =
  { allowed: true; statements: DecidedStatement[] } | { allowed: false; refusal: Refusal };

/** What the session knows about its connection, for policy input and audit. */
export interface SessionFacts {
  id: string;
  identity: Identity;
  clientAddr: string;
  tls: boolean;
  database: string;
  upstreamDatabase: string;
  user: string;
  applicationName: string;
}

/** Decides statements for one session. */
export class StatementDecider {
  /** Ends a wait for approval in progress, if any (set while a statement is held). */
  cancelHold: (() => void) | null = null;

  /** Statements allowed and refused in this session, for the session's end record. */
  readonly counts = { allowed: 0, refused: 0 };

  constructor(
    private readonly options: GatewayOptions,
    private readonly session: SessionFacts,
    private readonly logger: Logger,
    /** Writes a NoticeResponse to the client (approval holds). */
    private readonly notify: (notice: Buffer) => void,
  ) {}

  /** A new statement id (`s-...`). */
  newStatementId(): string {
    return `s-${randomUUID()}`;
  }

  /** Analyses `text`, or returns the refusal for text that cannot be analysed. */
  async analyze(text: string, searchPath?: string[]): Promise<StatementFacts[] | Refusal> {
    try {
      const context = { database: this.session.upstreamDatabase };
      return await this.options.analyzer.analyze(
        text,
        searchPath ? { ...context, searchPath } : context,
      );
    } catch (err) {
      // Not analysable means not decidable: refused, and recorded as a denial. The text stays
      // out of the record, since card-number literals in it could not be masked.
      const id = `d-${randomUUID()}`;
      this.counts.refused++;
      const reason = (err as Error).message;
      const refusal = isPgwardenError(err, 'ERR_SQL_PARSE')
        ? { code: '42601', message: `${reason} (decision ${id})` }
        : { code: '42501', message: `statement refused: ${reason} (decision ${id})` };
      await this.audit('decision', {
        statement_id: this.newStatementId(),
        decision: { id, allow: false, reasons: [reason] },
        text_unparsed: true,
      }).catch(() => undefined);
      return refusal;
    }
  }

  /** Decides every statement; stops at the first refusal. */
  async decideAll(
    facts: StatementFacts[],
    protocol: 'simple' | 'extended',
    inTransaction: boolean,
  ): Promise<Verdict> {
    const statements: DecidedStatement[] = [];
    for (const fact of facts) {
      const result = await this.decideOne(fact, protocol, inTransaction, this.newStatementId());
      if ('code' in result) {
        this.counts.refused++;
        return { allowed: false, refusal: result };
      }
      this.counts.allowed++;
      statements.push(result);
      // `BEGIN; DELETE ...; COMMIT` in one string: the DELETE runs inside the block.
      inTransaction = transactionAfter(fact.text, inTransaction);
    }
    return { allowed: true, statements };
  }

  /** Decides one statement again (at Execute, when the bundle or transaction state changed). */
  async redecide(
    previous: DecidedStatement,
    inTransaction: boolean,
  ): Promise<DecidedStatement | Refusal> {
    const result = await this.decideOne(
      previous.facts,
      'extended',
      inTransaction,
      this.newStatementId(),
    );
    if ('code' in result) this.counts.refused++;
    else this.counts.allowed++;
    return result;
  }

  /**
   * Reuses a cached decision for a statement that differs from the cached one only in compared
   * values. It is recorded as a decision of its own (fresh ids, the new text) that names the
   * decision it was derived from, whose record holds the full policy input. Undefined when the
   * entry does not fit the text after all (then the statement is decided afresh).
   */
  async reuse(
    entry: CacheEntry,
    maskedText: string,
  ): Promise<ExecutableStatement | Refusal | undefined> {
    const text = statementText(entry, maskedText);
    if (text === undefined) return undefined;
    if (this.options.audit.failed) {
      return { code: '42501', message: 'statement refused: the audit trail cannot be written' };
    }
    const cached = entry.statement;
    const id = this.newStatementId();
    const decision = reusedDecision(cached.decision, `d-${randomUUID()}`);
    const facts = reusedFacts(cached.facts, text);
    try {
      await this.audit('decision', {
        statement_id: id,
        text,
        fingerprint: facts.fingerprint,
        statement_kind: facts.kind,
        tables: entry.tableNames,
        protocol: entry.protocol,
        in_transaction: entry.inTransaction,
        decision: {
          id: decision.id,
          allow: decision.allow,
          reasons: decision.reasons,
          mask: decision.mask,
          approval: null,
        },
        cached_from: cached.decision.id,
        bundle: decision.bundle,
        eval_micros: 0,
      });
    } catch (err) {
      this.logger.error({ err }, 'audit append failed; refusing statement');
      return { code: '42501', message: 'statement refused: the audit trail cannot be written' };
    }
    this.counts.allowed++;
    return { ...cached, id, facts, decision };
  }

  private async decideOne(
    facts: StatementFacts,
    protocol: 'simple' | 'extended',
    inTransaction: boolean,
    statementId: string,
  ): Promise<DecidedStatement | Refusal> {
    if (this.options.audit.failed) {
      return { code: '42501', message: 'statement refused: the audit trail cannot be written' };
    }
    const input = this.input(facts, protocol, inTransaction, statementId);
    const decider = this.options.decider();
    let decision = this.evaluate(decider, input);
    if (!(await this.record(input, decision))) {
      return { code: '42501', message: 'statement refused: the audit trail cannot be written' };
    }
    // Refused now rather than after a person approved a statement that cannot run anyway.
    const early = decision.allow ? this.unmaskable(facts, decision) : null;
    if (early) return early;
    if (decision.allow && decision.approval) {
      const approved = await this.holdForApproval(input, facts, decision, statementId);
      if ('code' in approved) return approved;
      input.approval = approved;
      decision = this.evaluate(decider, input);
      // A second request for approval after approval is a denial (DESIGN: decisions).
      if (decision.approval) {
        decision = {
          ...decision,
          allow: false,
          reasons: [...decision.reasons, 'approval asked twice'],
        };
      }
      if (!(await this.record(input, decision))) {
        return { code: '42501', message: 'statement refused: the audit trail cannot be written' };
      }
    }
    if (!decision.allow) return refusalFor(decision);
    const unmaskable = this.unmaskable(facts, decision);
    if (unmaskable) return unmaskable;
    const approved = input.approval !== null;
    return { id: statementId, facts, decision, decider, inTransaction, approved };
  }

  /** A refusal when the decision masks columns the gateway cannot mask for this statement. */
  private unmaskable(facts: StatementFacts, decision: DecisionResult): Refusal | null {
    if (Object.keys(decision.mask).length === 0) return null;
    if (facts.copyOptions?.format === 'binary') {
      // Binary COPY values are of types COPY does not describe: neither a method nor the
      // backstop can read them reliably. Text and CSV output is masked row by row.
      return {
        code: '42501',
        message:
          'statement refused: COPY in binary format cannot be masked; use FORMAT text or csv ' +
          `(decision ${decision.id})`,
      };
    }
    const copy = facts.copyOptions;
    if (copy && copy.null !== (copy.format === 'csv' ? '' : '\\N')) {
      // A NULL marker of the client's choosing can equal a value ('4111...'): the output could
      // not tell that value from a NULL, so a masked column would answer "equal to the guess".
      return {
        code: '42501',
        message:
          'statement refused: COPY with a NULL marker of its own cannot be masked; leave NULL ' +
          `at its default (decision ${decision.id})`,
      };
    }
    if (!this.options.masker) {
      return {
        code: '42501',
        message:
          'statement refused: the decision masks columns but masking is not configured ' +
          `(decision ${decision.id})`,
      };
    }
    return null;
  }

  private evaluate(decider: Decider, input: PolicyInput): DecisionResult {
    try {
      return decider.decide(input);
    } catch (err) {
      // A failing policy is a denial with the reason, never an allowed statement.
      this.logger.warn({ err }, 'policy evaluation failed');
      return {
        id: `d-${randomUUID()}`,
        allow: false,
        reasons: [`policy evaluation failed: ${(err as Error).message}`],
        mask: {},
        approval: null,
        rowLimit: null,
        byteLimit: null,
        bundle: null,
        evalMicros: 0,
      };
    }
  }

  private async holdForApproval(
    input: PolicyInput,
    facts: StatementFacts,
    decision: DecisionResult,
    statementId: string,
  ): Promise<NonNullable<PolicyInput['approval']> | Refusal> {
    const broker = this.options.approvals;
    const request = decision.approval!;
    if (!broker) {
      return {
        code: '42501',
        message:
          `statement needs approval (${request.reason}) but approvals are not configured ` +
          `(decision ${decision.id})`,
      };
    }
    let ticket;
    try {
      ticket = await broker.hold({
        request,
        decisionId: decision.id,
        sessionId: this.session.id,
        statementId,
        subject: input.identity.subject,
        issuer: input.identity.issuer,
        groups: input.identity.groups,
        database: this.session.database,
        text: facts.text,
        fingerprint: facts.fingerprint,
        reasons: decision.reasons,
      });
    } catch (err) {
      this.logger.warn({ err }, 'approval request failed');
      return { code: '42501', message: `approval request failed (decision ${decision.id})` };
    }
    this.notify(
      noticeResponse(
        ticket.grant
          ? {
              severity: 'NOTICE',
              code: '00000',
              message: `statement runs under grant ${ticket.grant}, opened by request ${ticket.id}`,
              detail: `${request.reason}. The grant was approved at ${ticket.url}`,
            }
          : {
              severity: 'NOTICE',
              code: '00000',
              message: `statement held for approval: request ${ticket.id}`,
              detail: `${request.reason}. Approve or deny at ${ticket.url}`,
            },
      ),
    );
    // A CancelRequest while held ends the wait like a cancelled query (57014).
    const cancelled = new Promise<'cancelled'>(
      (resolve) => (this.cancelHold = () => resolve('cancelled')),
    );
    const outcome = await Promise.race([
      ticket.outcome.catch(() => ({ status: 'timeout' as const })),
      cancelled,
    ]);
    this.cancelHold = null;
    if (outcome === 'cancelled') {
      ticket.cancel?.();
      return {
        code: '57014',
        message:
          'canceling statement due to user request ' +
          `(request ${ticket.id}, decision ${decision.id})`,
      };
    }
    if (outcome.status === 'approved') return outcome.approvals;
    // Expiry reads like a statement timeout (57014); a person's denial is a refusal (42501).
    const ids = `(request ${ticket.id}, decision ${decision.id})`;
    if (outcome.status === 'timeout') {
      return { code: '57014', message: `statement refused: approval expired ${ids}` };
    }
    return { code: '42501', message: `statement refused: denied: ${outcome.reason} ${ids}` };
  }

  private input(
    facts: StatementFacts,
    protocol: 'simple' | 'extended',
    inTransaction: boolean,
    statementId: string,
  ): PolicyInput {
    const { identity } = this.session;
    return {
      identity: {
        subject: identity.subject,
        issuer: identity.issuer,
        groups: identity.groups,
        claims: identity.claims,
      },
      connection: {
        id: this.session.id,
        client_addr: this.session.clientAddr,
        tls: this.session.tls,
        database: this.session.database,
        user: this.session.user,
        application_name: this.session.applicationName,
      },
      statement: {
        id: statementId,
        text: facts.text,
        fingerprint: facts.fingerprint,
        kind: facts.kind,
        command_tag: facts.commandTag,
        tables: facts.tables,
        columns: facts.columns,
        functions: facts.functions,
        copy: facts.copy,
        where: facts.where,
        limit: facts.limit,
        copies_data: facts.copiesData,
        in_transaction: inTransaction,
        protocol,
      },
      approval: null,
      now: new Date().toISOString(),
    };
  }

  /**
   * Appends the decision with its whole policy input, so an auditor can replay it against the
   * bundle; the input holds verified claims and statement text with card numbers masked, never
   * the token or bound parameter values.
   */
  private async record(input: PolicyInput, decision: DecisionResult): Promise<boolean> {
    const { statement } = input;
    try {
      await this.audit('decision', {
        statement_id: statement.id,
        text: statement.text,
        fingerprint: statement.fingerprint,
        statement_kind: statement.kind,
        tables: statement.tables.map((t) => `${t.schema}.${t.name}`),
        protocol: statement.protocol,
        in_transaction: statement.in_transaction,
        input: { ...input },
        decision: {
          id: decision.id,
          allow: decision.allow,
          reasons: decision.reasons,
          mask: decision.mask,
          approval: decision.approval,
        },
        bundle: decision.bundle,
        eval_micros: decision.evalMicros,
      });
      return true;
    } catch (err) {
      this.logger.error({ err }, 'audit append failed; refusing statement');
      return false;
    }
  }

  /**
   * Appends an audit record stamped with this session. `fields` must be a fresh object the
   * caller gives up: the session's id and subject are added to it in place, since copying it
   * with a spread per record showed up on the per-statement hot path.
   */
  audit(kind: 'decision' | 'execution' | 'response' | 'session', fields: Record<string, unknown>) {
    fields.session_id = this.session.id;
    fields.subject = this.session.identity.subject;
    return this.options.audit.append(kind, fields);
  }
}

/** Whether a transaction block is open after `text` ran, as far as its first words say. */
export function transactionAfter(text: string, before: boolean): boolean {
  if (/^\s*(BEGIN|START\s+TRANSACTION)\b/i.test(text)) return true;
  const ends = /^\s*(COMMIT|END|ROLLBACK|ABORT)\b/i.test(text);
  // ROLLBACK TO SAVEPOINT and the two-phase commands leave the block as it was.
  if (ends && !/\b(TO|PREPARED)\b/i.test(text.slice(0, 40))) return false;
  return before;
}

/** The client-facing refusal of a denied decision: its reasons and id. */
export function refusalFor(decision: DecisionResult): Refusal {
  const reasons = decision.reasons.length > 0 ? decision.reasons.join('; ') : 'denied by policy';
  return {
    code: '42501',
    message: `permission denied by policy: ${reasons} (decision ${decision.id})`,
  };
}

/** True when a refusal is a Refusal (and not a decided statement). */
export function isRefusal(value: unknown): value is Refusal {
  return typeof value === 'object' && value !== null && 'code' in value && 'message' in value;
}
