import { describe, expect, it } from 'vitest';
import { ApiError, describeError, ok } from './api';

describe('API errors', () => {
  it('keeps the server message and code', () => {
    const e = describeError(400, { error: 'invalid_query', message: 'unknown metric: money' });
    expect(e).toBeInstanceOf(ApiError);
    expect([e.status, e.code, e.message]).toEqual([400, 'invalid_query', 'unknown metric: money']);
  });

  it('says what a bare status means', () => {
    expect(describeError(403, null).message).toBe('Your role does not allow this.');
    expect(describeError(418, undefined).message).toBe('The server answered 418.');
  });

  it('unwraps data and turns failures into ApiError', async () => {
    const res = (status: number) => new Response(null, { status });
    await expect(ok(Promise.resolve({ data: [1], response: res(200) }))).resolves.toEqual([1]);
    await expect(ok(Promise.resolve({ error: { error: 'x', message: 'gone' }, response: res(404) }))).rejects.toMatchObject({ status: 404, message: 'gone' });
    await expect(ok(Promise.reject(new TypeError('Failed to fetch')))).rejects.toMatchObject({ status: 0 });
  });
});
