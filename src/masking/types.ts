/** One column of a RowDescription, as the masking layer needs it. */
export interface ResultField {
  name: string;
  /** OID of the table the column comes from, or 0 for a computed column. */
  tableOid: number;
  /** Attribute number within that table, or 0. */
  columnAttr: number;
  typeOid: number;
  typeSize: number;
  typeMod: number;
  /** 0 text, 1 binary. */
  format: number;
}

/** Counts of what a masker changed, for the audit's response record. */
export interface MaskStats {
  /** Per masked column (`schema.table.column` or output name): method and values masked. */
  columns: Array<{ column: string; method: string; values: number }>;
  /** Values the card-number backstop masked that lineage did not. */
  backstop: number;
}

/**
 * Rewrites DataRow messages of one result set. `active` is false when nothing needs masking, so
 * the relay can forward rows untouched.
 */
export interface RowMasker {
  readonly active: boolean;
  /** Takes a whole DataRow message (type byte, length, body) and returns the message to send. */
  transformRow(message: Buffer): Buffer;
  stats(): MaskStats;
}

/**
 * Builds the masker for one result set from the RowDescription, the statement's lineage and the
 * decision's masks. `columnName` maps a table OID and attribute number to `schema.table.column`.
 */
export type MaskerFactory = (args: {
  fields: ResultField[];
  outputs: import('../sql/types.js').OutputLineage[];
  masks: Record<string, import('../policy/types.js').MaskSpec>;
  columnName: (tableOid: number, columnAttr: number) => string | undefined;
}) => RowMasker;
