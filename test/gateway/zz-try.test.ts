import { it } from 'vitest';
import { createAnalyzer } from '../../src/sql/index.js';
import { createDatabase, directClient, testServer } from '../support/pg.js';
it('try', async () => {
  const db = await createDatabase('try');
  const admin = await directClient(db);
  await admin.query('CREATE TABLE cards (id int, holder text, pan text)');
  await admin.end();
  const s = testServer();
  const a = createAnalyzer({ catalogConnection: (database) => ({ ...s, database }) });
  for (const q of ['DECLARE c CURSOR FOR SELECT pan FROM cards', 'FETCH ALL FROM c', 'EXECUTE x(1)', 'PREPARE x AS SELECT pan FROM cards']) {
    const f = await a.analyze(q, { database: db }).catch((e) => e.message);
    console.log(q, JSON.stringify(Array.isArray(f) ? f.map((x: any) => ({ kind: x.kind, tag: x.commandTag, tables: x.tables, outputs: x.outputs, read: x.columns.read })) : f));
  }
});
