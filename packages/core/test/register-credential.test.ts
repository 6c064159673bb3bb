import { describe, expect, test } from 'vitest';
import { redact, registerCredential } from '../src/index.js';

// A source that learns a credential while it runs (an OCI token service's answer, a Docker auth file's login) sends it
// per request, so core's client never sees it as `credentials`; registerCredential registers it the same way.
describe('registerCredential', () => {
  test('a Basic header: the header, its base64 and its password are redacted', () => {
    const base64 = Buffer.from('oci-user:pw-registered-by-test').toString('base64');
    registerCredential(`Basic ${base64}`);
    expect(redact(`sent Basic ${base64}`)).not.toContain(base64);
    expect(redact('the password was pw-registered-by-test')).not.toContain('pw-registered-by-test');
  });

  test('a Bearer header: the token on its own is redacted too', () => {
    registerCredential('Bearer tok-registered-by-test.abc.def');
    expect(redact('token tok-registered-by-test.abc.def')).not.toContain('tok-registered-by-test');
  });
});
