#!/usr/bin/env node
/** `agentos-registry-oci push <registry-dir> oci://host[:port]/repository:tag [--plain-http]`; the login comes from `$AGENTOS_OCI_TOKEN` or docker/podman login. */
import { isRegistryError } from '@agentos-registry/core';
import { pushRegistry } from './push.js';

const args = process.argv.slice(2);
const plainHttp = args.includes('--plain-http');
const [command, dir, location] = args.filter((arg) => arg !== '--plain-http');
if (command !== 'push' || !dir || !location) {
  process.stderr.write('usage: agentos-registry-oci push <registry-dir> oci://host[:port]/repository:tag [--plain-http]\n');
  process.exit(2);
}
try {
  const token = process.env.AGENTOS_OCI_TOKEN;
  const digest = await pushRegistry(dir, location, { plainHttp, ...(token ? { token } : {}) });
  process.stdout.write(`${location.replace(/[:@][^/]*$/, '')}@${digest}\n`);
} catch (error) {
  process.stderr.write(`agentos-registry-oci: ${isRegistryError(error) ? `${error.code}: ${error.message}` : String(error)}\n`);
  process.exit(1);
}
