// Drives the demo gateway through a TCP tap that keeps every byte the gateway sends the client,
// and tells whether any card number of the demo data is in those bytes in some recoverable form.
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import pg from 'pg';
import { DEMO_PANS } from '../../src/cli/demo/seed.js';
import type { RunningDemo } from '../../src/cli/demo/run.js';

/** A listening tap in front of the gateway; `bytes()` is what the gateway sent one connection. */
export interface Tap {
  port: number;
  close(): Promise<void>;
}

/** What the gateway sent on each tapped connection, in connection order. */
export const captured: Buffer[][] = [];

/** Starts a tap proxy on a free loopback port in front of `target`. */
export async function startTap(target: { host: string; port: number }): Promise<Tap> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const chunks: Buffer[] = [];
    captured.push(chunks);
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    upstream.on('data', (chunk: Buffer) => {
      chunks.push(Buffer.from(chunk));
      client.write(chunk);
    });
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Forms in which a card number could be read back from raw bytes. */
function leakForms(pan: string): Array<{ form: string; test: (bytes: string) => boolean }> {
  const spaced = new RegExp(pan.split('').join('[ -]?'));
  const reversed = pan.split('').reverse().join('');
  const ascii = Buffer.from(pan);
  const int8 = Buffer.alloc(8);
  int8.writeBigInt64BE(BigInt(pan));
  const contains = (needle: string) => (bytes: string) => bytes.includes(needle);
  return [
    { form: 'digits', test: (bytes) => spaced.test(bytes) },
    { form: 'reversed digits', test: contains(reversed) },
    { form: 'hex of the text', test: (b) => b.toLowerCase().includes(ascii.toString('hex')) },
    { form: 'base64 of the text', test: contains(ascii.toString('base64').slice(0, 16)) },
    { form: 'binary int8', test: contains(int8.toString('latin1')) },
    { form: 'binary numeric digits', test: contains(numericDigits(pan)) },
  ];
}

/** The base-10000 digit words of PostgreSQL's binary numeric, trailing zero words dropped. */
function numericDigits(pan: string): string {
  const padded = pan.padStart(Math.ceil(pan.length / 4) * 4, '0');
  const words: number[] = [];
  for (let i = 0; i < padded.length; i += 4) words.push(Number(padded.slice(i, i + 4)));
  while (words.at(-1) === 0) words.pop();
  const out = Buffer.alloc(words.length * 2);
  words.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out.toString('latin1');
}

const FORMS = DEMO_PANS.map((pan) => ({ pan, forms: leakForms(pan) }));

/** Describes every card number found in `bytes` and its form; empty when nothing leaked. */
export function leaks(bytes: Buffer): string[] {
  const text = bytes.toString('latin1');
  const out: string[] = [];
  for (const { pan, forms } of FORMS) {
    for (const { form, test } of forms) if (test(text)) out.push(`${pan.slice(-4)} as ${form}`);
  }
  return out;
}

/** How a probe ended. */
export interface ProbeResult {
  /** `rows` when every statement ran, `refused` when the policy said no (42501), else `error`. */
  outcome: 'rows' | 'refused' | 'error';
  /** Error messages, in order. */
  errors: string[];
  rows: unknown[];
  leaked: string[];
  /** Every byte the gateway sent on the probe's connection. */
  sent: Buffer;
}

/** One step of a probe: SQL text, or a query config for the extended protocol. */
export type Step = string | pg.QueryConfig;

/**
 * Connects as `identity` through a fresh tap connection, runs the steps in order (later steps
 * run even when one fails), approves any statement held for approval, and reports what the
 * gateway sent.
 */
export async function probe(
  demo: RunningDemo,
  tap: Tap,
  steps: Step[],
  options: { identity?: string; listen?: boolean } = {},
): Promise<ProbeResult> {
  const identity = options.identity ?? 'etl';
  const index = captured.length;
  const client = new pg.Client({
    host: '127.0.0.1',
    port: tap.port,
    database: 'payments',
    user: identity,
    password: await token(demo, identity),
    ssl: false,
    query_timeout: 20_000,
  });
  const approved = new Set<string>();
  client.on('notice', (notice) => {
    const id = /\b(a-[0-9a-f-]{36})\b/.exec(notice.message ?? '')?.[1];
    if (id && !approved.has(id)) {
      approved.add(id);
      void approve(demo, id);
    }
  });
  client.on('error', () => undefined);
  const result: ProbeResult = {
    outcome: 'rows',
    errors: [],
    rows: [],
    leaked: [],
    sent: Buffer.alloc(0),
  };
  try {
    await client.connect();
    for (const step of steps) {
      try {
        const res = await client.query(step as string);
        const list = Array.isArray(res) ? res : [res];
        for (const r of list) result.rows.push(...(r as pg.QueryResult).rows);
      } catch (err) {
        const e = err as { code?: string; message: string };
        result.errors.push(e.message);
        if (e.code === '42501' && result.outcome === 'rows') result.outcome = 'refused';
        else if (result.outcome === 'rows') result.outcome = 'error';
      }
    }
    // Notifications arrive after the statement that sent them; give them a moment.
    if (options.listen) await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    await client.end().catch(() => undefined);
  }
  result.sent = Buffer.concat(captured[index] ?? []);
  result.leaked = leaks(result.sent);
  return result;
}

async function token(demo: RunningDemo, name: string): Promise<string> {
  return readFile(demo.info.identities[name]!.token_file, 'utf8');
}

async function approve(demo: RunningDemo, id: string): Promise<void> {
  await fetch(`${demo.info.http}/v1/approvals/${id}/approve`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await token(demo, 'approver')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ comment: 'bypass corpus' }),
  });
}

/** A direct superuser client on the demo's database, for setup the policy would refuse. */
export async function superuser(demo: RunningDemo): Promise<pg.Client> {
  const { host, port, user, password } = demo.postgres;
  const client = new pg.Client({ host, port, user, password, database: 'payments' });
  await client.connect();
  return client;
}
