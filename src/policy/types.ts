/**
 * The contract between the gateway and the policy: the input document (v1) and the decision
 * (v1), as described in docs/policy-authoring.md.
 */
import type { Identity } from '../identity/types.js';

/** A masking method name, or a method with parameters (`{ method: 'partial', prefix: 2 }`). */
export type MaskSpec = string | ({ method: string } & Record<string, unknown>);

/** What the policy asks for when a statement needs a person's approval. */
export interface ApprovalRequest {
  reason: string;
  approvers: string[];
  quorum?: number;
  expires_in?: string;
  grant_ttl?: string;
}

/** One approval given by a person, as the policy sees it when deciding again. */
export interface ApprovalGiven {
  approver: string;
  at: string;
  comment: string;
}

/** `input` of the decision entrypoint, in the JSON shape the policy reads. */
export interface PolicyInput {
  identity: Pick<Identity, 'subject' | 'issuer' | 'groups' | 'claims'>;
  connection: {
    id: string;
    client_addr: string;
    tls: boolean;
    database: string;
    user: string;
    application_name: string;
  };
  statement: {
    id: string;
    text: string;
    fingerprint: string;
    kind: string;
    command_tag: string;
    tables: Array<{ schema: string; name: string; operations: string[] }>;
    columns: { read: string[]; written: string[]; filtered: string[]; computed?: string[] };
    functions: string[];
    copy: null | {
      direction: string;
      target: string;
      file: string | null;
      program: string | null;
      query: boolean;
    };
    where: boolean;
    limit: number | null;
    copies_data: boolean;
    in_transaction: boolean;
    protocol: 'simple' | 'extended';
  };
  approval: ApprovalGiven[] | null;
  now: string;
}

/** The decision after validation; anything that does not fit this shape is a denial. */
export interface Decision {
  allow: boolean;
  reasons: string[];
  mask: Record<string, MaskSpec>;
  approval: ApprovalRequest | null;
  /** Per-identity caps; the statement ends with an error past them. */
  rowLimit: number | null;
  byteLimit: number | null;
}

/** The bundle that made a decision: auditors recompute `hash` from the bundle file. */
export interface BundleStamp {
  hash: string;
  revision: string;
}

/** A decision with its provenance, as the gateway enforces and audits it. */
export interface DecisionResult extends Decision {
  id: string;
  bundle: BundleStamp | null;
  /** Evaluation time in microseconds. */
  evalMicros: number;
}

/** Anything that decides statements: the loaded bundle in production, small functions in tests. */
export interface Decider {
  decide(input: PolicyInput): DecisionResult;
}
