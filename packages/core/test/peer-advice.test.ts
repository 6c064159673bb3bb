/** What a peer message may suggest, from the versions a package registry has published (table-driven, no network). */
import { describe, expect, it } from 'vitest';
import { adviseVersion, highestSatisfying, newestVersion, nothingSatisfies } from '../src/peer-advice.js';

const agentos = { versions: ['0.1.0-alpha.1', '0.9.1', '0.9.163', '0.9.164', '1.0.0-rc.1'], distTags: { latest: '0.9.164', next: '1.0.0-rc.1' } };

describe('peer advice', () => {
  it.each([
    ['^0.9.0', '0.9.164'],
    ['>=0.7.0', '0.9.164'],
    ['>=0.9.0 <0.9.100', '0.9.1'],
    ['^0.1.0', undefined],
    ['^0.5.2', undefined],
    ['^1.0.0-rc.0', '1.0.0-rc.1'],
  ])('the highest published version satisfying %s is %s', (range, expected) => {
    expect(highestSatisfying(range, agentos.versions)).toBe(expected);
  });

  it('newest is the latest tag, else the highest release', () => {
    expect(newestVersion(agentos)).toBe('0.9.164');
    expect(newestVersion({ versions: ['1.0.0', '2.0.0-beta.1', '1.5.0'], distTags: {} })).toBe('1.5.0');
    expect(newestVersion({ versions: ['1.0.0'], distTags: { latest: '9.9.9' } })).toBe('1.0.0');
  });

  it('says when nothing published satisfies the range, and names no version without an answer', () => {
    const none = adviseVersion('@framers/agentos', '^0.5.2', agentos);
    expect(none).toMatchObject({ unsatisfiable: true, newest: '0.9.164' });
    expect(nothingSatisfies(none)).toBe('no published version of @framers/agentos satisfies ^0.5.2 (newest 0.9.164)');
    expect(adviseVersion('@framers/agentos', '^0.9.0', agentos)).toMatchObject({ suggested: '0.9.164', unsatisfiable: false });
    expect(adviseVersion('@framers/agentos', 'next', agentos)).toMatchObject({ suggested: '1.0.0-rc.1' });
    expect(adviseVersion('x', '^1.0.0', undefined)).toEqual({ name: 'x', range: '^1.0.0', unsatisfiable: false });
    expect(nothingSatisfies(adviseVersion('x', '^1.0.0', 'not-found'))).toBe('x is not published on the package registry');
  });
});
