// Runs the README's tour, command by command, against a running demo, so the README cannot rot.
// The `sh` code blocks of the "## Tour" section are fed in order to ONE bash process, as a person
// would paste them into a terminal. Two substitutions make them run here: the demo's state
// folder (`.pgwarden-demo`) becomes this run's temporary one, and `npx pgwarden` becomes this
// checkout's CLI (the shell runs in a scratch folder, so the files the tour writes stay there).
// A block marked "held until approved" runs in the background, as in the tour's first terminal,
// until the next block has approved it.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI,
  ROOT,
  cleanEnv,
  startDemoProcess,
  waitFor,
  type DemoProcess,
} from './support/demo.js';

/** The `sh` blocks of the README section `## Tour`, in order. */
function tourBlocks(readme: string): string[] {
  const start = readme.indexOf('\n## Tour\n');
  if (start < 0) throw new Error('README.md has no "## Tour" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** A bash process fed one block at a time; output of each block is collected separately. */
class Shell {
  private readonly bash: ChildProcessWithoutNullStreams;
  private buffer = '';
  private n = 0;

  constructor(cwd: string) {
    this.bash = spawn('bash', ['--noprofile', '--norc'], { cwd, env: cleanEnv() });
    this.bash.stdout.on('data', (chunk: Buffer) => (this.buffer += chunk.toString('utf8')));
    this.bash.stderr.on('data', (chunk: Buffer) => (this.buffer += chunk.toString('utf8')));
  }

  /** Runs a block (stderr joined to stdout) and resolves with its output and last exit code. */
  async run(block: string): Promise<{ output: string; code: number }> {
    const marker = `__tour_block_${++this.n}__`;
    this.buffer = '';
    this.bash.stdin.write(`{\n${block}\n} 2>&1; echo "${marker} $?"\n`);
    const found = await waitFor(() => {
      const at = this.buffer.indexOf(marker);
      return at < 0 ? undefined : at;
    }, 120_000);
    const code = Number(/ (\d+)/.exec(this.buffer.slice(found + marker.length))?.[1]);
    return { output: this.buffer.slice(0, found), code };
  }

  /** Starts a block in the background, its output going to `file`. */
  background(block: string, file: string): void {
    this.bash.stdin.write(`{\n${block}\n} > ${file} 2>&1 &\nBACKGROUND=$!\n`);
  }

  close(): void {
    this.bash.stdin.end();
    this.bash.kill();
  }
}

let demo: DemoProcess;
let scratch: string;
let shell: Shell;

beforeAll(async () => {
  demo = await startDemoProcess();
  scratch = await mkdtemp(path.join(os.tmpdir(), 'pgwarden-tour-'));
  shell = new Shell(scratch);
});

afterAll(async () => {
  shell?.close();
  await demo?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('the README tour', () => {
  it('runs every command of the tour with the outcome the tour describes', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const blocks = tourBlocks(readme).map((block) =>
      block.replaceAll('.pgwarden-demo', demo.stateDir).replaceAll('npx pgwarden', `node ${CLI}`),
    );
    // Setup, read, DDL, held export, approval, the export's file, audit tools.
    expect(blocks).toHaveLength(7);
    const [setup, read, ddl, held, approve, result, audit] = blocks as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];

    expect(await shell.run(setup)).toEqual({ output: '', code: 0 });

    const reading = await shell.run(read);
    expect(reading.code, reading.output).toBe(0);
    expect(reading.output).toMatch(/1 \| visa\s+\| \*{12}1111/);
    expect(reading.output).toMatch(/2 \| mastercard \| \*{12}4444/);
    expect(reading.output).not.toMatch(/4111111111111111/);

    const refused = await shell.run(ddl);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/ERROR: +permission denied by policy: DDL \(create_table\)/);
    expect(refused.output).toMatch(/decision d-/);

    expect(held).toContain('held until approved');
    const heldLog = path.join(scratch, 'held.log');
    shell.background(held, heldLog);
    await waitFor(async () => {
      const text = await readFile(heldLog, 'utf8').catch(() => '');
      return /held for approval: request a-/.test(text) ? text : undefined;
    });

    const approving = await shell.run(approve);
    expect(approving.code, approving.output).toBe(0);
    expect(approving.output).toMatch(/"status":"pending"/);
    expect(approving.output).toMatch(/"status":"approved"/);
    expect(approving.output).toContain('nightly export, ticket 42');

    const waited = await shell.run('wait $BACKGROUND');
    expect(waited.code, await readFile(heldLog, 'utf8')).toBe(0);
    // The export is a COPY (psql's \copy), masked row by row by the gateway.
    expect(held).toMatch(/\\copy \(SELECT .*\) TO cards\.csv/);
    expect(await readFile(heldLog, 'utf8')).toMatch(/^COPY 10$/m);
    const exported = await shell.run(result);
    expect(exported.code).toBe(0);
    const lines = exported.output.trim().split('\n');
    expect(lines[0]).toBe('id,brand,pan');
    expect(lines).toHaveLength(11);
    for (const line of lines.slice(1)) expect(line).toMatch(/^\d+,\w+,\*+\d{4}$/);

    const auditing = await shell.run(audit);
    expect(auditing.code, auditing.output).toBe(0);
    expect(auditing.output).toMatch(/^OK: \d+ records/m);
    expect(auditing.output).toMatch(/outcome=deny text=CREATE TABLE scratch/);
    const report = await stat(path.join(scratch, 'report.html'));
    expect(report.size).toBeGreaterThan(1000);
  });
});
