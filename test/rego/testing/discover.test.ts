import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPgwardenError } from '../../../src/errors.js';
import { discover } from '../../../src/rego/testing/discover.js';
import { formatValue } from '../../../src/rego/testing/value.js';

describe('test discovery', () => {
  it('finds .rego files and mounts data files at their folder, numbers exact', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'pgwarden-discover-'));
    await mkdir(path.join(root, 'a', 'b'), { recursive: true });
    await mkdir(path.join(root, '.hidden'));
    await writeFile(path.join(root, 'p.rego'), 'package p\n');
    await writeFile(path.join(root, 'a', 'q.rego'), 'package q\n');
    await writeFile(path.join(root, '.hidden', 'x.rego'), 'package hidden\n');
    await writeFile(path.join(root, 'data.json'), '{"top": 12345678901234567890123}');
    await writeFile(path.join(root, 'a', 'b', 'data.yaml'), 'roles:\n  - admin\n');
    await writeFile(path.join(root, 'a', 'other.json'), '{"ignored": true}');
    const found = await discover([root]);
    expect(found.sources.map((s) => path.relative(root, s.file))).toEqual([
      path.join('a', 'q.rego'),
      'p.rego',
    ]);
    expect(formatValue(found.data)).toBe(
      '{"a": {"b": {"roles": ["admin"]}}, "top": 12345678901234567890123}',
    );
  });

  it('refuses a missing path and conflicting data', async () => {
    await expect(discover(['/nonexistent/pgwarden'])).rejects.toSatisfy((e) =>
      isPgwardenError(e, 'ERR_CONFIG_INVALID'),
    );
    const root = await mkdtemp(path.join(tmpdir(), 'pgwarden-discover-'));
    await mkdir(path.join(root, 'x'));
    await writeFile(path.join(root, 'data.json'), '{"x": 1}');
    await writeFile(path.join(root, 'x', 'data.json'), '{"y": 2}');
    await expect(discover([root])).rejects.toThrow(/conflicts/);
  });
});
