import { computed, inject } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { ActivatedRoute, Router } from '@angular/router';
import { type DashState, parseState, stateToParams } from '../../core/dash-state';

/** The dashboard state of the current URL, and a way to change it (a new history entry per change). */
export function injectDashUrl() {
  const route = inject(ActivatedRoute);
  const router = inject(Router);
  const params = toSignal(route.queryParams, { initialValue: route.snapshot.queryParams });
  const state = computed(() => parseState(params()));
  const set = (next: DashState) => router.navigate([], { relativeTo: route, queryParams: stateToParams(next) });
  return { state, set };
}
