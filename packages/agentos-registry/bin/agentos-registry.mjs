#!/usr/bin/env node
// Committed launcher: package managers link a bin at install time, before the workspace is built, so the bin
// must exist in the repository. It runs the built CLI.
import '../dist/cli.js';
