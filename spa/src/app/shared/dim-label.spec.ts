import { describe, expect, it } from 'vitest';
import { dimIcon, dimText } from './dim-label';
import { detailMetrics } from '../pages/dashboard/details-dialog';

describe('dimension labels', () => {
  it('draws flags, brand marks and device glyphs', () => {
    expect(dimIcon('visit:country', 'DE')).toEqual({ kind: 'flag', code: 'de' });
    expect(dimIcon('visit:browser', 'Chrome Mobile')).toMatchObject({ kind: 'brand' });
    expect(dimIcon('visit:os', 'Windows')).toEqual({ kind: 'pi', cls: 'pi-microsoft' });
    expect(dimIcon('visit:device', 'Tablet')).toEqual({ kind: 'pi', cls: 'pi-tablet' });
    expect(dimIcon('event:page', '/')).toBeNull();
  });

  it('shows short country names and (not set)', () => {
    expect(dimText('visit:country', 'GB')).toBe('UK');
    expect(dimText('visit:source', null)).toBe('(not set)');
  });

  it('offers the metrics the API allows per dimension', () => {
    expect(detailMetrics('event:goal').map((c) => c.id)).toEqual(['visitors', 'events', 'conversion_rate']);
    expect(detailMetrics('visit:source').map((c) => c.id)).toEqual(['visitors', 'visits', 'pageviews', 'bounce_rate', 'visit_duration']);
  });
});
