/**
 * The approvals store for several gateway instances: two tables in PostgreSQL, and
 * LISTEN/NOTIFY so that an approval given through instance A's API releases the statement that
 * instance B holds.
 */
import pg from 'pg';
import type { ApprovalRecord, ApprovalStore, GrantRecord } from './store.js';

const CHANNEL = 'pgwarden_approvals';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS pgwarden_approval_requests (
  id text PRIMARY KEY,
  instance text NOT NULL,
  status text NOT NULL,
  record jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS pgwarden_approval_grants (
  id text PRIMARY KEY,
  record jsonb NOT NULL
);
`;

/** Opens the store over `connection`, creating its tables when missing. */
export async function openPostgresStore(connection: pg.ClientConfig): Promise<ApprovalStore> {
  const pool = new pg.Pool({ ...connection, max: 4, application_name: 'pgwarden-approvals' });
  const listener = new pg.Client({ ...connection, application_name: 'pgwarden-approvals' });
  // Two instances starting at once may both run CREATE TABLE IF NOT EXISTS; the advisory lock
  // keeps them from colliding in the catalog.
  const setup = await pool.connect();
  try {
    await setup.query('SELECT pg_advisory_lock(hashtext($1))', [CHANNEL]);
    await setup.query(SCHEMA);
    await setup.query('SELECT pg_advisory_unlock(hashtext($1))', [CHANNEL]);
  } finally {
    setup.release();
  }

  const listeners: Array<(id: string) => void> = [];
  await listener.connect();
  listener.on('notification', (message) => {
    if (message.channel === CHANNEL && message.payload) {
      for (const notify of listeners) notify(message.payload);
    }
  });
  // A lost listening connection would silently stop releases; the error surfaces in logs of
  // the caller through the pool's next query, and the waits time out as configured.
  listener.on('error', () => {});
  await listener.query(`LISTEN ${CHANNEL}`);

  return {
    async getRequest(id) {
      const { rows } = await pool.query(
        'SELECT record FROM pgwarden_approval_requests WHERE id = $1',
        [id],
      );
      return rows[0]?.record as ApprovalRecord | undefined;
    },
    async listRequests() {
      const { rows } = await pool.query(
        'SELECT record FROM pgwarden_approval_requests ORDER BY updated_at, id',
      );
      return rows.map((r) => r.record as ApprovalRecord);
    },
    async listGrants() {
      const { rows } = await pool.query('SELECT record FROM pgwarden_approval_grants ORDER BY id');
      return rows.map((r) => r.record as GrantRecord);
    },
    async putRequest(record, expected) {
      // NOTIFY is delivered at commit, after the row is visible to every instance.
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const body = JSON.stringify(record);
        // The conditional form re-checks the row under its lock: of two instances writing
        // against the same version, the second finds it changed and writes nothing.
        const written = expected
          ? await client.query(
              `UPDATE pgwarden_approval_requests
                  SET status = $2, record = $3, updated_at = now()
                WHERE id = $1 AND status = $4 AND jsonb_array_length(record->'verdicts') = $5`,
              [record.id, record.status, body, expected.status, expected.verdicts],
            )
          : await client.query(
              `INSERT INTO pgwarden_approval_requests (id, instance, status, record)
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (id) DO UPDATE
                 SET status = EXCLUDED.status, record = EXCLUDED.record, updated_at = now()`,
              [record.id, record.instance, record.status, body],
            );
        if (written.rowCount === 0) {
          await client.query('ROLLBACK');
          return false;
        }
        await client.query('SELECT pg_notify($1, $2)', [CHANNEL, record.id]);
        await client.query('COMMIT');
        return true;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async putGrant(grant) {
      await pool.query(
        `INSERT INTO pgwarden_approval_grants (id, record) VALUES ($1, $2)
         ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record`,
        [grant.id, JSON.stringify(grant)],
      );
    },
    onRequestChange: (notify) => void listeners.push(notify),
    async abandon(instance) {
      await pool.query(
        `UPDATE pgwarden_approval_requests
            SET status = 'abandoned',
                record = jsonb_set(record, '{status}', '"abandoned"'),
                updated_at = now()
          WHERE instance = $1 AND status = 'pending'`,
        [instance],
      );
    },
    async close() {
      await listener.end().catch(() => {});
      await pool.end();
    },
  };
}
