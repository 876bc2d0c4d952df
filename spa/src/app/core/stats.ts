import { Injectable, inject } from '@angular/core';
import { Api, ok, type QueryRequest, type QueryResponse, type QueryRow } from '../api/api';

/** Stats API v2 queries (`POST /api/v2/query`), cancellable. */
@Injectable({ providedIn: 'root' })
export class Stats {
  private readonly api = inject(Api);

  query(body: QueryRequest, signal?: AbortSignal): Promise<QueryResponse> {
    // The operation can also answer text/csv (with Accept: text/csv); without that header it is JSON.
    return ok(this.api.client.POST('/v2/query', { body, signal })) as Promise<QueryResponse>;
  }
}

/** A row's metric as a number (the API sends numbers; null when there is nothing). */
export function metricAt(row: QueryRow | undefined, i: number): number | null {
  const v = row?.metrics[i];
  return typeof v === 'number' ? v : v == null ? null : Number(v);
}

export function changeAt(row: QueryRow | undefined, i: number): number | null {
  const v = row?.comparison?.change[i];
  return typeof v === 'number' ? v : null;
}

export function comparisonAt(row: QueryRow | undefined, i: number): number | null {
  const v = row?.comparison?.metrics[i];
  return typeof v === 'number' ? v : null;
}
