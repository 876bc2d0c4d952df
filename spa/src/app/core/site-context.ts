import { Injectable, signal } from '@angular/core';
import type { Site } from '../api/api';

/**
 * The site a set of pages is about, provided by the site frame (signed-in) or the share page
 * (public, read-only). Pages below read it instead of loading the site again.
 */
@Injectable()
export class SiteContext {
  readonly site = signal<Site | null>(null);
  /** A share view: no settings, no goal editing. */
  readonly readOnly = signal(false);
  /** Where the dashboard's links point (`/sites/x` or `/share/token`). */
  readonly base = signal<string>('');
}
