import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { RawClient } from '../support/gateway-raw.js';
import { createDatabase } from '../support/pg.js';

let gw: TestGateway;
let database: string;

beforeAll(async () => {
  database = await createDatabase('gw_fuzz');
  gw = await startTestGateway();
});

afterAll(async () => {
  await gw?.close();
});

// Frontend type bytes, so the garbage often gets past the type check into the parsers.
const types = fc.constantFrom(0x42, 0x43, 0x44, 0x45, 0x46, 0x48, 0x50, 0x51, 0x53, 0x64, 0x70);

const framed = fc
  .tuple(types, fc.uint8Array({ maxLength: 64 }), fc.integer({ min: -3, max: 3 }))
  .map(([type, body, skew]) => {
    // A length that is sometimes right and sometimes a few bytes off.
    const out = Buffer.alloc(5 + body.length);
    out[0] = type;
    out.writeInt32BE(Math.max(0, 4 + body.length + skew), 1);
    Buffer.from(body).copy(out, 5);
    return out;
  });

describe('garbage from clients', () => {
  it('never takes the gateway down, before or after login', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(fc.oneof(framed, fc.uint8Array({ maxLength: 32 }).map(Buffer.from)), {
          maxLength: 6,
        }),
        async (login, chunks) => {
          const raw = await RawClient.connect(gw.gateway.address.port);
          if (login) await raw.login(database, 'test:fuzzer');
          for (const chunk of chunks) raw.write(chunk);
          await new Promise((r) => setTimeout(r, 20));
          raw.end();
        },
      ),
      { numRuns: 60 },
    );
    const client = await gw.connect(database);
    expect((await client.query('SELECT 1 AS alive')).rows[0].alive).toBe(1);
    await client.end();
  });
});
