import { isRegistryError, type RegistryError } from '@agentos-registry/core';
import { describe, expect, test } from 'vitest';
import { branchNames, parseLsRemote, resolveRef } from '../src/refs.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const T = 'd'.repeat(40);

const LS_REMOTE = [
  `ref: refs/heads/main\tHEAD`,
  `${A}\tHEAD`,
  `${A}\trefs/heads/main`,
  `${B}\trefs/heads/production`,
  `${C}\trefs/heads/stable`,
  `${A}\trefs/tags/v1`,
  `${T}\trefs/tags/v2`,
  `${B}\trefs/tags/v2^{}`,
  '',
].join('\n');
const refs = parseLsRemote(LS_REMOTE);
const context = { registry: 'corp', display: 'https://git.corp.com/x.git' };

function failure(fn: () => unknown): RegistryError {
  try {
    fn();
  } catch (error) {
    if (isRegistryError(error)) return error;
    throw error;
  }
  throw new Error('did not throw');
}

describe('parseLsRemote', () => {
  test('reads refs, symbolic HEAD and peeled annotated tags', () => {
    expect(refs).toEqual([
      { name: 'HEAD', oid: A, target: 'refs/heads/main' },
      { name: 'refs/heads/main', oid: A },
      { name: 'refs/heads/production', oid: B },
      { name: 'refs/heads/stable', oid: C },
      { name: 'refs/tags/v1', oid: A },
      { name: 'refs/tags/v2', oid: T, peeled: B },
    ]);
  });
});

describe('resolveRef', () => {
  test.each([
    [undefined, A, 'refs/heads/main'],
    ['production', B, 'refs/heads/production'],
    ['stable', C, 'refs/heads/stable'],
    ['v1', A, 'refs/tags/v1'],
    ['v2', B, 'refs/tags/v2'],
    ['refs/tags/v2', B, 'refs/tags/v2'],
    [C, C, C],
    [C.toUpperCase(), C, C],
  ])('branch %s → %s', (branch, sha, ref) => {
    expect(resolveRef(refs, branch, context)).toEqual({ sha, ref });
  });

  test('a branch wins over a tag of the same name, like git clone --branch', () => {
    const both = parseLsRemote(`${A}\trefs/heads/release\n${B}\trefs/tags/release\n`);
    expect(resolveRef(both, 'release', context).sha).toBe(A);
  });

  test('an unknown branch is E_NOT_FOUND naming the registry and a few branches, default first', () => {
    const error = failure(() => resolveRef(refs, 'prod', context));
    expect(error.code).toBe('E_NOT_FOUND');
    expect(error.registry).toBe('corp');
    expect(error.message).toContain("no branch or tag 'prod'");
    expect(error.message).toContain("branches: 'main', 'production', 'stable'; 2 tags");
  });

  test('long branch lists are cut after five', () => {
    const many = parseLsRemote(Array.from({ length: 9 }, (_, i) => `${A}\trefs/heads/b${i}`).join('\n'));
    expect(failure(() => resolveRef(many, 'x', context)).message).toContain("'b4' and 4 more");
    expect(branchNames(many)).toHaveLength(9);
  });

  test('an abbreviated sha gets a hint to give all 40 characters', () => {
    expect(failure(() => resolveRef(refs, 'abcdef1', context)).message).toContain('give all 40 characters');
  });

  test('an empty repository has no HEAD', () => {
    const error = failure(() => resolveRef([], undefined, context));
    expect(error.code).toBe('E_NOT_FOUND');
    expect(error.message).toContain('it is empty');
  });
});
