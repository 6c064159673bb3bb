import { describe, expect, test } from 'vitest';
import { resolveFileLocation } from '../src/index.js';

// Table-driven and pure: no file system, no $HOME.
describe('resolveFileLocation', () => {
  const cases: Array<[string, string]> = [
    ['/opt/agentos/extensions', '/opt/agentos/extensions'],
    ['/opt/agentos/extensions/', '/opt/agentos/extensions'],
    ['registry', '/srv/config/registry'],
    ['./registry', '/srv/config/registry'],
    ['../shared/registry', '/srv/shared/registry'],
    ['~', '/home/agent'],
    ['~/registries/internal', '/home/agent/registries/internal'],
    ['~/../other', '/home/other'],
    ['~other/registry', '/srv/config/~other/registry'],
    ['file:///opt/agentos/extensions', '/opt/agentos/extensions'],
    ['file:///opt/with%20space', '/opt/with space'],
  ];
  test.each(cases)('%s → %s', (location, expected) => {
    expect(resolveFileLocation(location, '/srv/config', '/home/agent')).toBe(expected);
  });
});
