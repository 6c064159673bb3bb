/**
 * Loads the config file named by argv[2] in a plain Node process (run with tsx) and prints the error, inspected in
 * full: the import of a JavaScript config must be Node's own, not the test runner's transform, whose parse errors
 * read differently.
 */
import { inspect } from 'node:util';
import { loadConfigFile } from '../../src/index.js';

loadConfigFile(process.argv[2]!).then(
  () => console.log('loaded'),
  (error: unknown) => console.log(`${JSON.stringify(error)}\n${inspect(error, { depth: 10 })}`),
);
