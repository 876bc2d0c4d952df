import { describe, expect, it } from 'vitest';
import { splitList } from './general';

describe('splitList', () => {
  it('accepts lines and commas and drops blanks', () => {
    expect(splitList(' 10.0.0.0/8\n\n203.0.113.7, 2001:db8::/32 ,')).toEqual(['10.0.0.0/8', '203.0.113.7', '2001:db8::/32']);
    expect(splitList('')).toEqual([]);
  });
});
