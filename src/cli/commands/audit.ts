/**
 * `pgwarden audit`: tools an auditor runs on a trail without trusting the gateway. `verify`
 * checks the chain and signatures, `query` filters records, `session` plays one session back,
 * `export` converts decisions to OPA's decision-log format, `replay` evaluates a recorded
 * decision again, `report` writes an HTML evidence report.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { PgwardenError } from '../../errors.js';
import { loadJwksFile, verifyAudit } from '../../audit/index.js';
import { formatSession, formatTable, formatVerifyReport } from '../../audit/format.js';
import { replayDecision, type ReplayEvaluator, type ReplayReport } from '../../audit/replay.js';
import { buildEvidenceReport } from '../../audit/report.js';
import {
  queryAudit,
  readTrail,
  recordSession,
  toOpaDecisionLog,
  type QueryFilter,
} from '../../audit/query.js';

const KINDS = [
  'gateway',
  'session',
  'auth',
  'decision',
  'execution',
  'response',
  'approval',
  'bundle',
  'checkpoint',
];

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses an ISO 8601 time, or a duration such as `2h` or `7d` meaning that long ago. */
function parseTime(value: string): Date {
  const ago = /^(\d+)([smhd])$/.exec(value);
  if (ago) return new Date(Date.now() - Number(ago[1]) * UNITS[ago[2] as string]!);
  const time = Date.parse(value);
  if (Number.isNaN(time)) {
    throw new InvalidArgumentError('expected an ISO 8601 time or a duration such as 24h');
  }
  return new Date(time);
}

function write(text: string): void {
  process.stdout.write(text);
}

/**
 * The trail to read: PATH, or the PostgreSQL sink whose DSN is in the environment variable
 * `--dsn-env` names (a DSN holds a password, which a command line would show to `ps`).
 */
function trailTarget(path: string | undefined, dsnEnv: string | undefined): string {
  if (dsnEnv !== undefined) {
    const dsn = process.env[dsnEnv];
    if (!dsn) throw new InvalidArgumentError(`environment variable ${dsnEnv} is not set`);
    return dsn;
  }
  if (path === undefined) throw new InvalidArgumentError('give PATH or --dsn-env');
  return path;
}

async function verifyAction(
  path: string | undefined,
  opts: { jwks?: string; checkpoints?: string; format: string; dsnEnv?: string },
): Promise<void> {
  const jwks = opts.jwks ? await loadJwksFile(opts.jwks) : undefined;
  const target = trailTarget(path, opts.dsnEnv);
  const report = await verifyAudit(target, { jwks, checkpoints: opts.checkpoints });
  write(
    opts.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatVerifyReport(report),
  );
  if (!report.ok) {
    const bad = report.firstBad!;
    const where = [
      bad.file,
      bad.line !== null ? `line ${bad.line}` : '',
      bad.seq !== null ? `seq ${bad.seq}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    throw new PgwardenError(
      'ERR_AUDIT_VERIFY',
      `audit trail fails verification at ${where}: ${bad.message}`,
    );
  }
}

async function queryAction(path: string, opts: QueryFilter & { format: string }): Promise<void> {
  const { format, ...filter } = opts;
  const records = await queryAudit(path, filter);
  if (format === 'table') write(formatTable(records));
  else for (const r of records) write(`${JSON.stringify(r)}\n`);
}

async function sessionAction(path: string, id: string, opts: { format: string }): Promise<void> {
  const records = [];
  for await (const r of readTrail(path)) if (recordSession(r) === id) records.push(r);
  if (records.length === 0) {
    throw new PgwardenError('ERR_AUDIT_VERIFY', `no records of session ${id} in ${path}`);
  }
  if (opts.format === 'json') for (const r of records) write(`${JSON.stringify(r)}\n`);
  else write(formatSession(records));
}

async function exportAction(path: string, opts: { output?: string }): Promise<void> {
  const lines: string[] = [];
  for await (const r of readTrail(path)) {
    const event = toOpaDecisionLog(r);
    if (event) lines.push(`${JSON.stringify(event)}\n`);
  }
  if (opts.output) await writeFile(opts.output, lines.join(''), { mode: 0o640 });
  else write(lines.join(''));
}

/**
 * The default replay evaluator: loads the bundle with the policy module and evaluates the
 * decision entrypoint. Imported when used, so the other audit commands work without it.
 */
const policyEvaluator: ReplayEvaluator = async (bundleFile, input) => {
  const policy = await import('../../policy/index.js');
  const bundle = await policy.loadBundleArchive(await readFile(bundleFile), { source: bundleFile });
  const result = policy.evaluateDecision(
    bundle,
    input as Parameters<typeof policy.evaluateDecision>[1],
  );
  return { decision: result, bundle: result.bundle };
};

function formatReplay(r: ReplayReport): string {
  const side = (label: string, s: ReplayReport['recorded']): string =>
    `${label}: outcome=${s.outcome} bundle=${String(s.bundle?.revision ?? '-')} ` +
    `${String(s.bundle?.hash ?? '-')} reasons=${JSON.stringify(s.reasons)} ` +
    `mask=${JSON.stringify(s.mask)}`;
  return [
    `decision ${r.decisionId ?? '-'} (seq ${r.seq}, ${r.instance})`,
    ...(r.inputFrom
      ? [
          `from the decision cache: replayed the input of decision ${r.inputFrom.decisionId} ` +
            `(seq ${r.inputFrom.seq}), named in cached_from`,
        ]
      : []),
    side('recorded', r.recorded),
    side('replayed', r.replayed),
    [
      `bundle ${r.bundleMatches ? 'matches' : 'DIFFERS'}`,
      `outcome ${r.sameOutcome ? 'same' : 'DIFFERS'}`,
      `masks ${r.sameMasks ? 'same' : 'DIFFER'}`,
    ].join('; '),
    '',
  ].join('\n');
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** Options of {@link registerAudit}. */
export interface AuditCommandOptions {
  /** How `audit replay` evaluates a bundle. Default: the policy module's loader. */
  evaluate?: ReplayEvaluator;
}

/** Adds `pgwarden audit` and its subcommands. */
export function registerAudit(program: Command, options: AuditCommandOptions = {}): void {
  const audit = program.command('audit').description('verify and read the audit trail');

  audit
    .command('verify')
    .description('check hashes, sequence, file links and checkpoint signatures; exit 1 on a fault')
    .argument('[path]', 'audit folder, one audit file, or postgres://… of the PostgreSQL sink')
    .option('--dsn-env <var>', 'verify the PostgreSQL sink whose DSN this variable holds')
    .option('--jwks <file>', 'public keys to check signatures with (default: jwks.json beside it)')
    .option('--checkpoints <file>', 'second checkpoint sink: detects a truncated trail')
    .addOption(new Option('--format <format>', 'output').choices(['text', 'json']).default('text'))
    .action(verifyAction);

  audit
    .command('query')
    .description('print the records that match every given filter')
    .argument('<path>', 'audit folder or one audit file')
    .option('--subject <subject>', 'identity subject')
    .option('--since <time>', 'from this time (ISO 8601, or a duration ago: 24h)', parseTime)
    .option('--until <time>', 'before this time (ISO 8601, or a duration ago)', parseTime)
    .addOption(new Option('--kind <kind>', 'record kind').choices(KINDS))
    .option('--table <table>', 'table named by the statement (schema.table or table)')
    .option('--session <id>', 'session id')
    .addOption(
      new Option('--decision <outcome>', 'decision outcome').choices(['allow', 'deny', 'approval']),
    )
    .addOption(new Option('--format <format>', 'output').choices(['json', 'table']).default('json'))
    .action(queryAction);

  audit
    .command('session')
    .description('print one recorded session in order: what was asked and what was sent back')
    .argument('<path>', 'audit folder or one audit file')
    .argument('<id>', 'session id')
    .addOption(new Option('--format <format>', 'output').choices(['text', 'json']).default('text'))
    .action(sessionAction);

  audit
    .command('export')
    .description('convert decision records for other tools')
    .argument('<path>', 'audit folder or one audit file')
    .addOption(
      new Option('--format <format>', 'export format')
        .choices(['opa-decision-log'])
        .makeOptionMandatory(),
    )
    .option('-o, --output <file>', 'write to a file instead of standard output')
    .action(exportAction);

  audit
    .command('replay')
    .description('evaluate a recorded decision again against a bundle; exit 1 if it differs')
    .argument('<path>', 'audit folder or one audit file')
    .requiredOption('--seq <n>', 'sequence number of the decision record', positiveInt)
    .requiredOption('--bundle <file>', 'policy bundle (.tar.gz) to evaluate with')
    .option('--instance <name>', 'chain to read when the folder holds several')
    .addOption(new Option('--format <format>', 'output').choices(['text', 'json']).default('text'))
    .action(
      async (
        path: string,
        opts: { seq: number; bundle: string; instance?: string; format: string },
      ) => {
        const evaluate = options.evaluate ?? policyEvaluator;
        const report = await replayDecision(path, { ...opts, evaluate });
        write(
          opts.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatReplay(report),
        );
        if (!report.same) {
          throw new PgwardenError(
            'ERR_AUDIT_VERIFY',
            `replay of seq ${report.seq} differs from the record`,
          );
        }
      },
    );

  audit
    .command('report')
    .description('write an HTML evidence report for an assessor (PCI DSS 10.2 event types)')
    .argument('<path>', 'audit folder or one audit file')
    .option('--since <time>', 'from this time (ISO 8601, or a duration ago: 30d)', parseTime)
    .option('--until <time>', 'before this time (ISO 8601, or a duration ago)', parseTime)
    .option('--jwks <file>', 'public keys to check signatures with')
    .option('--checkpoints <file>', 'second checkpoint sink')
    .requiredOption('-o, --output <file>', 'HTML file to write')
    .action(
      async (
        path: string,
        opts: { since?: Date; until?: Date; jwks?: string; checkpoints?: string; output: string },
      ) => {
        const jwks = opts.jwks ? await loadJwksFile(opts.jwks) : undefined;
        const html = await buildEvidenceReport(path, { ...opts, jwks });
        await writeFile(opts.output, html, { mode: 0o640 });
      },
    );
}
