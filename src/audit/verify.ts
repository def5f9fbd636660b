/**
 * The verifier: re-reads a trail and checks, for every chain, that each record's hash matches its
 * content, that sequence numbers and `prev` links run without gaps, that each file opens with a
 * checkpoint naming itself and the file before it, and that every checkpoint signature verifies
 * against the published keys. With a second checkpoint sink it also proves that no checkpointed
 * record was cut off the end.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { stat } from 'node:fs/promises';
import { compactVerify, createLocalJWKSet } from 'jose';
import { fileContent, resolveTrailPath, readLines, type ChainFile } from './files.js';
import { JWKS_FILE, readJwks, type JsonWebKeySet } from './keys.js';
import { GENESIS_HASH, isAuditRecord, recomputeHash, type AuditRecord } from './record.js';

/** One problem found; the first fault names the first bad record. */
export interface VerifyFault {
  file: string;
  /** 1-based line in the file, when the fault is about one line. */
  line: number | null;
  seq: number | null;
  message: string;
}

/** Summary of one chain (one gateway instance). */
export interface ChainSummary {
  instance: string;
  files: number;
  records: number;
  firstSeq: number | null;
  lastSeq: number | null;
  lastHash: string | null;
  checkpoints: number;
  lastCheckpointSeq: number | null;
}

/** What {@link verifyAudit} found. `ok` is false when there is any fault. */
export interface VerifyReport {
  ok: boolean;
  files: number;
  records: number;
  checkpoints: number;
  signaturesVerified: number;
  chains: ChainSummary[];
  faults: VerifyFault[];
  firstBad: VerifyFault | null;
  warnings: string[];
}

/** Options of {@link verifyAudit}. */
export interface VerifyOptions {
  /** Keys to check signatures with. Default: `jwks.json` beside the trail (with a warning). */
  jwks?: JsonWebKeySet;
  /** The second sink's file: every checkpoint in it must be in the trail. */
  checkpoints?: string;
  /** Stop collecting after this many faults. Default 100. */
  maxFaults?: number;
}

type KeyResolver = ReturnType<typeof createLocalJWKSet>;

interface SinkEntry {
  seq: number;
  hash: string;
  line: number;
}

class Verifier {
  readonly report: VerifyReport = {
    ok: true,
    files: 0,
    records: 0,
    checkpoints: 0,
    signaturesVerified: 0,
    chains: [],
    faults: [],
    firstBad: null,
    warnings: [],
  };
  private unsigned = 0;

  constructor(
    private readonly keys: KeyResolver | null,
    private readonly maxFaults: number,
  ) {}

  fault(file: string, line: number | null, seq: number | null, message: string): void {
    this.report.ok = false;
    if (this.report.faults.length < this.maxFaults) {
      this.report.faults.push({ file, line, seq, message });
    }
    this.report.firstBad ??= { file, line, seq, message };
  }

  warn(message: string): void {
    this.report.warnings.push(message);
  }

  /** Checks a checkpoint's signature: it must cover the record before it. */
  async checkSignature(record: AuditRecord, file: string, line: number): Promise<void> {
    if (typeof record.signature !== 'string') {
      this.unsigned++;
      return;
    }
    if (!this.keys) return;
    try {
      const { payload } = await compactVerify(record.signature, this.keys, {
        algorithms: ['EdDSA'],
      });
      const claims = JSON.parse(Buffer.from(payload).toString('utf8')) as Record<string, unknown>;
      const match =
        claims.seq === record.seq - 1 &&
        claims.hash === record.prev &&
        claims.time === record.time &&
        claims.instance === record.instance;
      if (!match) {
        this.fault(file, line, record.seq, 'checkpoint signature is for a different record');
        return;
      }
      this.report.signaturesVerified++;
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      this.fault(file, line, record.seq, `checkpoint signature does not verify: ${why}`);
    }
  }

  async chain(files: ChainFile[], sink: Map<number, SinkEntry> | undefined): Promise<void> {
    const summary: ChainSummary = {
      instance: files[0]?.instance ?? '',
      files: files.length,
      records: 0,
      firstSeq: null,
      lastSeq: null,
      lastHash: null,
      checkpoints: 0,
      lastCheckpointSeq: null,
    };
    let last: AuditRecord | null = null;
    let resync = true;
    let previousFile: string | null = null;
    for (const file of files) {
      this.report.files++;
      const { lines, torn } = await fileContent(file);
      for (const { line, text } of lines) {
        let record: unknown;
        try {
          record = JSON.parse(text);
        } catch {
          record = undefined;
        }
        if (!isAuditRecord(record)) {
          this.fault(file.name, line, null, 'not an audit record (unparseable or fields missing)');
          resync = true;
          continue;
        }
        summary.records++;
        summary.firstSeq ??= record.seq;
        if (recomputeHash(record) !== record.hash) {
          this.fault(file.name, line, record.seq, 'hash does not match the content (edited)');
        }
        if (last && !resync) {
          if (record.seq !== last.seq + 1) {
            const what = record.seq <= last.seq ? 'reordered or repeated' : 'records missing';
            this.fault(
              file.name,
              line,
              record.seq,
              `seq ${record.seq} after ${last.seq} (${what})`,
            );
          } else if (record.prev !== last.hash) {
            this.fault(file.name, line, record.seq, 'prev does not match the previous record');
          }
          if (record.instance !== last.instance) {
            this.fault(file.name, line, record.seq, `instance changes to ${record.instance}`);
          }
        } else if (!last && record.previous_file == null && line === 1) {
          if (record.prev !== GENESIS_HASH || record.seq !== 1) {
            this.fault(file.name, line, record.seq, 'chain start does not begin at seq 1');
          }
        }
        if (line === 1) this.checkFileStart(record, file, previousFile, last === null);
        else if (record.file !== undefined && record.kind === 'checkpoint') {
          this.fault(file.name, line, record.seq, 'a file-opening checkpoint inside a file');
        }
        if (record.kind === 'checkpoint') {
          summary.checkpoints++;
          summary.lastCheckpointSeq = record.seq;
          await this.checkSignature(record, file.name, line);
        }
        const copy = sink?.get(record.seq);
        if (copy && copy.hash !== record.hash) {
          this.fault(file.name, line, record.seq, 'differs from its copy in the checkpoint sink');
        }
        last = record;
        resync = false;
      }
      if (torn) {
        this.warn(`${file.name}: ${torn.bytes} bytes after the last newline (a write cut short)`);
      }
      previousFile = file.name;
    }
    summary.lastSeq = last?.seq ?? null;
    summary.lastHash = last?.hash ?? null;
    this.closeChain(summary, last, sink, files[files.length - 1]?.name ?? '');
    this.report.records += summary.records;
    this.report.checkpoints += summary.checkpoints;
    this.report.chains.push(summary);
  }

  private checkFileStart(
    record: AuditRecord,
    file: ChainFile,
    previousFile: string | null,
    first: boolean,
  ): void {
    if (record.kind !== 'checkpoint' || typeof record.file !== 'string') {
      this.fault(file.name, 1, record.seq, 'file does not open with a file checkpoint');
      return;
    }
    if (file.instance && record.file !== file.name) {
      this.fault(file.name, 1, record.seq, `file names itself ${record.file} (renamed or moved)`);
    }
    if (!first && record.previous_file !== previousFile) {
      const named = String(record.previous_file);
      this.fault(file.name, 1, record.seq, `file follows ${named}, not ${previousFile}`);
    }
    if (first && record.previous_file != null) {
      this.warn(`${file.name} continues ${String(record.previous_file)}, which was not checked`);
    }
  }

  private closeChain(
    summary: ChainSummary,
    last: AuditRecord | null,
    sink: Map<number, SinkEntry> | undefined,
    lastFile: string,
  ): void {
    if (last && last.kind !== 'checkpoint') {
      const from = (summary.lastCheckpointSeq ?? 0) + 1;
      this.warn(
        `${summary.instance}: records ${from}..${last.seq} follow the last checkpoint ` +
          '(the gateway stopped without closing, or the tail was cut)',
      );
    }
    for (const entry of sink?.values() ?? []) {
      if (summary.lastSeq === null || entry.seq > summary.lastSeq) {
        this.fault(
          lastFile,
          null,
          entry.seq,
          `checkpoint seq ${entry.seq} of the checkpoint sink is missing: the trail was truncated`,
        );
      }
    }
  }

  finish(): void {
    if (this.unsigned > 0) this.warn(`${this.unsigned} checkpoints carry no signature`);
  }
}

async function readSink(
  path: string,
  verifier: Verifier,
): Promise<Map<string, Map<number, SinkEntry>>> {
  const byInstance = new Map<string, Map<number, SinkEntry>>();
  const { lines } = await readLines(path);
  for (const { line, text } of lines) {
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      record = undefined;
    }
    if (!isAuditRecord(record) || record.kind !== 'checkpoint') {
      verifier.fault(path, line, null, 'checkpoint sink line is not a checkpoint record');
      continue;
    }
    if (recomputeHash(record) !== record.hash) {
      verifier.fault(path, line, record.seq, 'checkpoint sink record was edited');
      continue;
    }
    await verifier.checkSignature(record, path, line);
    const key = record.instance.replace(/[^A-Za-z0-9_.]/g, '_');
    const map = byInstance.get(key) ?? new Map<number, SinkEntry>();
    map.set(record.seq, { seq: record.seq, hash: record.hash, line });
    byInstance.set(key, map);
  }
  return byInstance;
}

/**
 * Verifies a trail: `path` is the audit folder (every chain in it) or one file. Never throws for
 * a bad trail; the report lists faults, the first one naming the first bad record.
 */
export async function verifyAudit(
  path: string,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const chains = await resolveTrailPath(path);
  let jwks = options.jwks;
  if (!jwks && !/^postgres(ql)?:\/\//.test(path)) {
    const folder = (await stat(path)).isDirectory() ? path : dirname(path);
    jwks = await readJwks(join(folder, JWKS_FILE));
  }
  jwks ??= { keys: [] };
  const keys = jwks.keys.length > 0 ? createLocalJWKSet(jwks) : null;
  const verifier = new Verifier(keys, options.maxFaults ?? 100);
  if (!options.jwks && keys) {
    verifier.warn('keys were read from the trail folder; pass an independent copy to be sure');
  }
  if (!keys) verifier.warn('no public keys: checkpoint signatures were not checked');
  const sink = options.checkpoints ? await readSink(options.checkpoints, verifier) : undefined;
  if (chains.length === 0) verifier.fault(path, null, null, 'no audit files found');
  for (const files of chains) {
    await verifier.chain(files, sink?.get(files[0]?.instance ?? ''));
  }
  verifier.finish();
  return verifier.report;
}

/** Reads a JWKS file for {@link verifyAudit}. */
export async function loadJwksFile(file: string): Promise<JsonWebKeySet> {
  const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<JsonWebKeySet>;
  if (!Array.isArray(parsed.keys)) throw new TypeError(`${file} has no "keys" array`);
  return { keys: parsed.keys };
}
