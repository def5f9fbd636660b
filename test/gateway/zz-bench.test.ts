import { execFileSync } from 'node:child_process';
import { it } from 'vitest';
import { startTestGateway } from '../support/gateway.js';
import { createDatabase, testServer } from '../support/pg.js';
import { MemoryAudit } from '../support/gateway-fixtures.js';

it('bench', async () => {
  const db = await createDatabase('bench');
  const s = testServer();
  const env = { ...process.env, PGPASSWORD: s.password };
  execFileSync('pgbench', ['-i', '-s', '1', '-h', s.host, '-p', String(s.port), '-U', s.user, db], { env, stdio: 'ignore' });
  const audit = new MemoryAudit();
  (audit as any).append = async () => {};
  const gw = await startTestGateway({ audit });
  for (const mode of ['simple', 'extended', 'prepared']) {
    for (const [name, port, pw] of [['direct', s.port, s.password], ['gateway', gw.gateway.address.port, 'test:bench:etl']] as const) {
      const out = execFileSync('pgbench', ['-S', '-n', '-c', '8', '-j', '2', '-T', '5', '-M', mode, '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', db], { env: { ...process.env, PGPASSWORD: pw } }).toString();
      console.log(mode, name, /tps = ([\d.]+)/.exec(out)?.[1]);
    }
  }
  await gw.close();
}, 120_000);
