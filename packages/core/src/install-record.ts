/**
 * The record written last into a finished install folder (see `install.ts`): its file name and its shape. A module of
 * its own, with no imports but the contract's types, so that `types.ts` can name it without importing the installer.
 */
import type { InstalledPackage } from './contract.js';

/** Name of the record written last into a finished install folder. */
export const INSTALL_RECORD = '.agentos-registry-install.json';

/** What was installed for an entry, as recorded in its install folder. */
export interface InstallRecord {
  format: 1;
  id: string;
  version: string;
  /** Integrity of the entry's files the folder was built from. */
  integrity: string;
  dependencies: Record<string, string>;
  /** The install-script policy the folder was built with. */
  allowScripts: readonly string[] | true;
  /** Each peer dependency and the host folder it is linked to. */
  peers: Record<string, string>;
  packages: InstalledPackage[];
  scriptsRan: string[];
  /** Peers of the installed dependencies that the host provides, linked the same way (name → host folder). */
  dependencyPeers?: Record<string, string>;
  /** Required peers the host lacks, installed from the package registry with the dependencies (name → range). */
  peersInstalled?: Record<string, string>;
  /** Packages whose install scripts did not run because they were not allowed. */
  scriptsSkipped?: string[];
}
