import { describe, expect, it } from 'vitest';
import { tokenize } from '../../../src/rego/lexer.js';

describe('tokenize', () => {
  it('gives positions and newline flags', () => {
    const { tokens, diagnostics } = tokenize('package a\np := 1 # c\n  q', 'x.rego');
    expect(diagnostics).toEqual([]);
    const brief = tokens.map((t) => [t.kind, t.value, t.line, t.col, t.nl]);
    expect(brief).toEqual([
      ['ident', 'package', 1, 1, true],
      ['ident', 'a', 1, 9, false],
      ['ident', 'p', 2, 1, true],
      ['punct', ':=', 2, 3, false],
      ['number', '1', 2, 6, false],
      ['ident', 'q', 3, 3, true],
      ['eof', '', 3, 4, true],
    ]);
  });

  it('decodes string escapes and keeps raw strings as written', () => {
    const { tokens } = tokenize('"a\\n\\u00e9\\"" `x\\ny`', 'x.rego');
    expect(tokens[0]).toMatchObject({ kind: 'string', value: 'a\né"' });
    expect(tokens[1]).toMatchObject({ kind: 'rawstring', value: 'x\\ny' });
  });

  it('keeps number text exact', () => {
    const { tokens } = tokenize('12345678901234567890123 1.5e-3 0.1', 'x.rego');
    expect(tokens.slice(0, 3).map((t) => t.value)).toEqual([
      '12345678901234567890123',
      '1.5e-3',
      '0.1',
    ]);
  });

  it('reports every bad token with its position and goes on', () => {
    const { tokens, diagnostics } = tokenize('a ~ b\n"open', 'f.rego');
    expect(diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`)).toEqual([
      'f.rego:1:3: illegal token "~"',
      'f.rego:2:1: non-terminated string',
    ]);
    expect(tokens.map((t) => t.value)).toContain('b');
  });
});
