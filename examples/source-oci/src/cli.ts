#!/usr/bin/env node
/** `agentos-registry-oci push <registry-dir> oci://host[:port]/repository:tag [--plain-http]`; the login comes from `$AGENTOS_OCI_TOKEN` or docker/podman login. */
import { isRegistryError, redact } from '@agentos-registry/core';
import { pushRegistry } from './push.js';

const plainHttp = process.argv.includes('--plain-http');
const [command, dir, location] = process.argv.slice(2).filter((arg) => arg !== '--plain-http');
if (command !== 'push' || !dir || !location) {
  process.stderr.write('usage: agentos-registry-oci push <registry-dir> oci://host[:port]/repository:tag [--plain-http]\n');
  process.exit(2);
}
try {
  const digest = await pushRegistry(dir, location, { plainHttp, ...(process.env.AGENTOS_OCI_TOKEN ? { token: process.env.AGENTOS_OCI_TOKEN } : {}) });
  process.stdout.write(`${location.replace(/[:@][^/]*$/, '')}@${digest}\n`);
} catch (error) {
  process.stderr.write(`agentos-registry-oci: ${redact(isRegistryError(error) ? `${error.code}: ${error.message}` : String(error))}\n`);
  process.exit(1);
}
