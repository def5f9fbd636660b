/**
 * Checking what the policy returned. The decision entrypoint must produce one object of the
 * documented shape; anything else, including undefined, is a denial that says why.
 */
import { checkMaskSpec } from '../masking/methods.js';
import type { ApprovalRequest, Decision, MaskSpec } from './types.js';

/** A denial made by the gateway itself, with the reason a client and the audit see. */
export function denial(reason: string): Decision {
  return {
    allow: false,
    reasons: [reason],
    mask: {},
    approval: null,
    rowLimit: null,
    byteLimit: null,
  };
}

/**
 * Turns the entrypoint's result set (`[{ result: ... }]`, as opa-wasm returns it) into a
 * Decision, or a denial naming the first thing that is wrong with it.
 */
export function readDecision(resultSet: unknown): Decision {
  if (!Array.isArray(resultSet) || resultSet.length === 0) {
    return denial('policy returned no decision (undefined)');
  }
  if (resultSet.length > 1) return denial('policy returned more than one decision');
  const result = (resultSet[0] as { result?: unknown }).result;
  if (!isObject(result)) return denial('malformed decision: not an object');

  const { allow, reasons = [], mask = {}, approval = null, row_limit = null } = result;
  const byteLimit = result.byte_limit ?? null;
  if (typeof allow !== 'boolean') return denial('malformed decision: "allow" must be a boolean');
  if (!Array.isArray(reasons) || !reasons.every((r) => typeof r === 'string')) {
    return denial('malformed decision: "reasons" must be a list of strings');
  }
  if (!isObject(mask)) return denial('malformed decision: "mask" must be an object');
  for (const [column, spec] of Object.entries(mask)) {
    const problem = checkMaskSpec(spec);
    if (problem) return denial(`malformed decision: mask for ${column}: ${problem}`);
    if (column.split('.').length !== 3) {
      return denial(`malformed decision: mask key ${column} is not schema.table.column`);
    }
  }
  const approvalProblem = approval === null ? null : checkApproval(approval);
  if (approvalProblem) return denial(`malformed decision: approval: ${approvalProblem}`);
  if (!isLimit(row_limit) || !isLimit(byteLimit)) {
    return denial('malformed decision: row_limit and byte_limit must be positive integers');
  }
  return {
    allow,
    reasons: reasons as string[],
    mask: mask as Record<string, MaskSpec>,
    approval: approval as ApprovalRequest | null,
    rowLimit: row_limit as number | null,
    byteLimit: byteLimit as number | null,
  };
}

function checkApproval(approval: unknown): string | null {
  if (!isObject(approval)) return 'must be an object';
  if (typeof approval.reason !== 'string') return '"reason" must be a string';
  const { approvers, quorum } = approval;
  if (!Array.isArray(approvers) || approvers.length === 0) return '"approvers" must list groups';
  if (!approvers.every((a) => typeof a === 'string')) return '"approvers" must be group names';
  if (quorum !== undefined && !(Number.isInteger(quorum) && (quorum as number) >= 1)) {
    return '"quorum" must be a positive integer';
  }
  for (const field of ['expires_in', 'grant_ttl'] as const) {
    const value = approval[field];
    if (value !== undefined && (typeof value !== 'string' || !/^\d+(ms|s|m|h|d)$/.test(value))) {
      return `"${field}" must be a duration such as "10m"`;
    }
  }
  return null;
}

function isLimit(value: unknown): boolean {
  return value === null || (Number.isInteger(value) && (value as number) > 0);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
