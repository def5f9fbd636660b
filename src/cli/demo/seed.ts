/**
 * The demo's cardholder database: holders, cards (card numbers as text in `pan`, all
 * Luhn-valid test numbers that card networks publish for testing), merchants and
 * transactions, plus the non-superuser account the gateway holds.
 */
import pg from 'pg';

/** Card numbers networks publish for testing; each passes the Luhn check. */
export const DEMO_PANS = [
  '4111111111111111',
  '5555555555554444',
  '378282246310005',
  '4012888888881881',
  '6011111111111117',
  '5105105105105100',
  '4242424242424242',
  '3530111333300000',
  '6011000990139424',
  '371449635398431',
];

const SCHEMA = `
CREATE TABLE holders (
  id serial PRIMARY KEY,
  name text NOT NULL,
  email text NOT NULL,
  phone text NOT NULL
);
CREATE TABLE cards (
  id serial PRIMARY KEY,
  holder_id int NOT NULL REFERENCES holders(id),
  pan text NOT NULL,
  brand text NOT NULL,
  expires date NOT NULL
);
CREATE TABLE merchants (
  id serial PRIMARY KEY,
  name text NOT NULL,
  city text NOT NULL
);
CREATE TABLE transactions (
  id serial PRIMARY KEY,
  card_id int NOT NULL REFERENCES cards(id),
  merchant_id int NOT NULL REFERENCES merchants(id),
  amount numeric(10,2) NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
`;

/** Card brands by leading digits (IIN ranges of the test numbers above), longest prefix first. */
const BRANDS: Array<[prefix: string, brand: string]> = [
  ['34', 'amex'],
  ['37', 'amex'],
  ['35', 'jcb'],
  ['4', 'visa'],
  ['5', 'mastercard'],
  ['6', 'discover'],
];

function brandOf(pan: string): string {
  return BRANDS.find(([prefix]) => pan.startsWith(prefix))?.[1] ?? 'other';
}
const NAMES = [
  'Ada',
  'Grace',
  'Alan',
  'Edsger',
  'Barbara',
  'Donald',
  'Frances',
  'Ken',
  'Radia',
  'Leslie',
];
const MERCHANTS = [
  ['Corner Bakery', 'Lisbon'],
  ['Night Train Books', 'Berlin'],
  ['Harbour Fuel', 'Oslo'],
  ['Blue Door Cafe', 'Dublin'],
];

/**
 * Creates the `payments` database (when missing), its tables and rows, and the role
 * `pgwarden_gateway` with `password`. Safe to call again: an existing database is left alone.
 */
export async function seedDemo(
  admin: pg.ClientConfig,
  gatewayPassword: string,
): Promise<{ created: boolean }> {
  const root = new pg.Client({ ...admin, database: 'postgres' });
  await root.connect();
  try {
    const exists = await root.query("SELECT 1 FROM pg_database WHERE datname = 'payments'");
    if (exists.rowCount) return { created: false };
    await root.query('CREATE DATABASE payments');
    await root.query(
      `DO $$BEGIN
         IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pgwarden_gateway') THEN
           CREATE ROLE pgwarden_gateway LOGIN;
         END IF;
       END$$`,
    );
    await root.query(`ALTER ROLE pgwarden_gateway PASSWORD ${pg.escapeLiteral(gatewayPassword)}`);
  } finally {
    await root.end();
  }

  const db = new pg.Client({ ...admin, database: 'payments' });
  await db.connect();
  try {
    await db.query(SCHEMA);
    for (const [i, name] of NAMES.entries()) {
      await db.query('INSERT INTO holders (name, email, phone) VALUES ($1, $2, $3)', [
        name,
        `${name.toLowerCase()}@example.com`,
        `+351 21 000 00${String(i).padStart(2, '0')}`,
      ]);
    }
    for (const [i, pan] of DEMO_PANS.entries()) {
      await db.query(
        "INSERT INTO cards (holder_id, pan, brand, expires) VALUES ($1, $2, $3, '2029-12-31')",
        [i + 1, pan, brandOf(pan)],
      );
    }
    for (const [name, city] of MERCHANTS) {
      await db.query('INSERT INTO merchants (name, city) VALUES ($1, $2)', [name, city]);
    }
    await db.query(
      `INSERT INTO transactions (card_id, merchant_id, amount, at)
       SELECT 1 + (n % 10), 1 + (n % 4), round((random() * 200)::numeric, 2),
              now() - n * interval '17 minutes'
       FROM generate_series(1, 200) AS n`,
    );
    // The gateway's account: enough for the demo's identities, never a superuser. DDL by the
    // DBA identity needs CREATE on the schema.
    await db.query('GRANT USAGE, CREATE ON SCHEMA public TO pgwarden_gateway');
    await db.query(
      'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO pgwarden_gateway',
    );
    await db.query('GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO pgwarden_gateway');
  } finally {
    await db.end();
  }
  return { created: true };
}
