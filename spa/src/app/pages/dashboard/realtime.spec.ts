import { describe, expect, it } from 'vitest';
import { parseSse } from './realtime';

describe('parseSse', () => {
  it('returns complete events and keeps a partial one for the next chunk', () => {
    const a = parseSse('data: {"visitors":3}\n\ndata: {"vis');
    expect(a.events).toEqual(['{"visitors":3}']);
    const b = parseSse(a.rest + 'itors":4}\n\n');
    expect(b.events).toEqual(['{"visitors":4}']);
    expect(b.rest).toBe('');
  });

  it('skips comments and keep-alives, joins multi-line data and accepts CRLF', () => {
    expect(parseSse(': ping\n\nevent: update\r\ndata: a\r\ndata: b\r\n\r\n').events).toEqual(['a\nb']);
  });
});
