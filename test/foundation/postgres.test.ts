import { describe, expect, it } from 'vitest';
import { directClient } from '../support/pg.js';

describe('test harness', () => {
  it('reaches a real PostgreSQL with max_connections raised', async () => {
    const client = await directClient();
    try {
      const { rows } = await client.query('SHOW max_connections');
      expect(Number(rows[0].max_connections)).toBeGreaterThanOrEqual(500);
      const version = await client.query('SELECT current_setting($1) AS v', ['server_version_num']);
      expect(Number(version.rows[0].v)).toBeGreaterThanOrEqual(180000);
    } finally {
      await client.end();
    }
  });
});
