import { describe, expect, it } from 'vitest';
import { parseBytes, parseDuration } from '../../src/config/index.js';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['10m', 600_000],
    ['8h', 28_800_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1_500],
    ['0s', 0],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['30', '', '10 minutes', '-5s', 's', '1w', '5m3'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('parseBytes', () => {
  it.each([
    ['65536', 65_536],
    ['512KB', 512_000],
    ['64MiB', 67_108_864],
    ['1GiB', 1_073_741_824],
    ['2 kib', 2_048],
  ])('reads %s as %d bytes', (text, n) => {
    expect(parseBytes(text)).toBe(n);
  });

  it.each(['', 'MiB', '12XB', '-1', '1e6'])('refuses %j', (text) => {
    expect(parseBytes(text)).toBeUndefined();
  });
});
