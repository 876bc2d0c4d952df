import { describe, expect, it } from 'vitest';
import { fromBase64url, toBase64url } from './passkey';

describe('base64url for passkey ceremonies', () => {
  it('round-trips every byte value without padding or URL-unsafe characters', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const text = toBase64url(bytes.buffer)!;
    expect(text).not.toMatch(/[+/=]/);
    expect(new Uint8Array(fromBase64url(text))).toEqual(bytes);
  });

  it('reads the server\'s unpadded challenges of any length', () => {
    expect(Array.from(new Uint8Array(fromBase64url('AQ')))).toEqual([1]);
    expect(Array.from(new Uint8Array(fromBase64url('AQI')))).toEqual([1, 2]);
    expect(Array.from(new Uint8Array(fromBase64url('_-8')))).toEqual([255, 239]);
    expect(toBase64url(null)).toBeNull();
  });
});
