/**
 * The `agentos-registry` command line: list, search, info, fetch and load against the registries of a config file.
 * `runCli` never exits the process and never touches the console directly, so tests drive it with fake streams.
 */
import { Command, CommanderError, Option } from 'commander';
import { isRegistryError, type ListedEntry, type Registry, RegistryError, redact, unknownKindHint } from '@agentos-registry/core';
import pkg from '../../package.json' with { type: 'json' };
import { cacheClean, cacheLs, cachePrune, cacheSettingsFor, cacheVerify } from './cache.js';
import { type CommonOptions, type LabelWriter, loadFoundConfig, openRegistry, WarningPrinter } from './config.js';
import { fetchJson, fetchText, infoJson, infoText, listedJson, listText, loadJson, loadText, toJson } from './format.js';
import { type CliIo, colourOn, paint, processIo } from './io.js';
import { addIndexCommand } from './index-command.js';
import { addInitCommand } from './init.js';
import { lockCommand, lockOptionsFor } from './lock.js';
import { ProgressLine } from './progress.js';
import { addSigningCommands } from './signing.js';
import { oneLine, terminalSafe } from './terminal-text.js';
import { updateCommand } from './update.js';
import { addValidateCommand } from './validate.js';
import { versionsOf, versionsText } from './versions.js';

interface FilterOptions {
  kind?: string;
  registry?: string;
}

interface KindOptions {
  kind: string;
}

/** The `{"error": …}` object printed with `--json`, and the text printed without it. */
export function errorReport(error: unknown): { code: string; message: string; registry: string | null } {
  if (isRegistryError(error)) {
    // A JSON file that does not parse (a config file, a package.json) is named as file:line:column, as editors link it.
    const { file, line, column } = error.details ?? {};
    const at = typeof file === 'string' && typeof line === 'number' && typeof column === 'number' ? `${file}:${line}:${column}: ` : '';
    return { code: error.code, message: redact(`${at}${error.message}`), registry: error.registry ?? null };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'E_INTERNAL', message: redact(message), registry: null };
}

/** Runs one invocation (`argv` without `node` and the script) and resolves to its exit code. */
export async function runCli(argv: readonly string[], given: CliIo = processIo()): Promise<number> {
  let target = given;
  const json = argv.includes('--json');
  let verbose = argv.includes('--verbose');
  // --quiet prints nothing but errors; output asked for with --json is still printed.
  const quiet = argv.includes('--quiet') || argv.includes('-q');
  // Progress only on a terminal: a line on stderr, erased before anything else is written to either stream.
  const progress = target.tty?.stderr === true && !quiet ? new ProgressLine(target.stderr, colourOn(target, 'stderr')) : undefined;
  if (progress) target = clearingFirst(target, progress);
  // Everything is written through this filter: what is printed quotes registries, which must not drive the terminal.
  const io = screenIo(target);
  const out = (text: string) => {
    if (!quiet || json) io.stdout.write(redact(text));
  };
  // Labels are the CLI's own words, written past the filter so that their colour reaches the terminal.
  const stderrColour = colourOn(target, 'stderr');
  const label: LabelWriter = (kind, text) => target.stderr.write(paint(stderrColour, kind, text));
  const warnings = new WarningPrinter(io, label);
  warnings.quiet = quiet;
  let exitCode = 0;

  /** Opens the registry for one command, runs it, and always releases the sources. */
  const withRegistry = async (command: Command, body: (registry: Registry, options: CommonOptions) => Promise<void>, locked = false) => {
    const options = command.optsWithGlobals<CommonOptions>();
    verbose = options.verbose === true;
    // fetch, load and info follow the lockfile when there is one (--frozen: strictly).
    const registry = await openRegistry(io, options, warnings, progress?.listener, locked ? await lockOptionsFor(io, options) : {});
    try {
      await body(registry, options);
    } finally {
      progress?.stop();
      await registry.close();
    }
  };

  const program = new Command('agentos-registry')
    .description('Browse, fetch and load AgentOS extensions and personas from self-hosted registries.')
    .version(pkg.version, '-V, --version')
    .option(
      '-c, --config <file>',
      'registry config file (.mjs, .js or .json); default: AGENTOS_REGISTRY_CONFIG, else agentos-registry.config.{mjs,js,json} here or in a parent folder, else package.json#agentosRegistry, else $XDG_CONFIG_HOME/agentos-registry/config.{mjs,js,json}',
    )
    .option('--json', 'print machine-readable JSON on stdout')
    .option('--offline', 'never contact a source; use only what is cached')
    .option('--prefer-offline', 'use any cached copy whatever its age; contact a source only when nothing is cached')
    .option('--refresh', 'revalidate every registry index now, ignoring cacheDuration')
    .addOption(new Option('--verbose', 'log what the registry does to stderr: cache decisions, network requests').conflicts('quiet'))
    .option('-q, --quiet', 'print nothing but errors (--json output is still printed)')
    .configureHelp({ showGlobalOptions: false })
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride();

  const allowScriptsOption = () =>
    new Option(
      '--allow-scripts <packages>',
      "comma-separated packages whose install scripts may run when load installs dependencies (added to the config file's dependencies.allowScripts)",
    ).argParser((value: string, previous: string[] = []) => [
      ...previous,
      ...value
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    ]);
  const strictPeersOption = () =>
    new Option(
      '--strict-peers',
      "refuse an extension whose peer dependency the host has outside the declared range (E_PEER_MISSING), instead of using the host's copy with a warning (sets dependencies.strictPeers)",
    );

  const frozenOption = () =>
    new Option('--frozen', 'use only entries of the lockfile, each exactly as locked (version, content hash, dependencies); anything else is E_LOCK_MISMATCH');
  const lockfileOption = () => new Option('--lockfile <file>', 'the lockfile (default: agentos-registry.lock.json beside the config file)');

  const kindFilter = () => new Option('-k, --kind <kind>', 'only the registry used for this kind, and entries that provide it');
  const registryFilter = () => new Option('-r, --registry <name>', 'only this configured registry');
  const kindOption = () => new Option('-k, --kind <kind>', 'extension kind, or persona').default('tool');

  /** `--kind` that no entry provides (a typo, most often): says so on stderr, with the kinds there are. */
  const hintKind = async (registry: Registry, opts: FilterOptions, rows: readonly ListedEntry[]) => {
    if (opts.kind === undefined || rows.length > 0) return;
    const all = await registry.list(opts.registry === undefined ? {} : { registry: opts.registry });
    warnings.print(
      unknownKindHint(
        opts.kind,
        all.flatMap((row) => row.kinds),
      ),
    );
  };

  program
    .command('list')
    .description('list the entries of the configured registries')
    .addOption(kindFilter())
    .addOption(registryFilter())
    .action(async (opts: FilterOptions, command: Command) => {
      await withRegistry(command, async (registry) => {
        const entries = await registry.list(filterOf(opts));
        await hintKind(registry, opts, entries);
        out(json ? `${toJson(listedJson(entries))}\n` : listText(entries));
      });
    });

  program
    .command('search <text>')
    .description('find entries whose id, name, package, description or keywords contain <text>')
    .addOption(kindFilter())
    .addOption(registryFilter())
    .action(async (text: string, opts: FilterOptions, command: Command) => {
      await withRegistry(command, async (registry) => {
        const entries = await registry.search(text, filterOf(opts));
        if (entries.length === 0) await hintKind(registry, opts, await registry.list(filterOf(opts)));
        out(json ? `${toJson(listedJson(entries))}\n` : listText(entries, text));
      });
    });

  program
    .command('info <ref>')
    .description('show an entry and its manifest; <ref> is id, id@range or registry:id@range')
    .addOption(kindOption())
    .option('--versions', 'also list every version of the entry that the configured registries list')
    .addOption(frozenOption())
    .addOption(lockfileOption())
    .action(async (ref: string, opts: KindOptions & { versions?: boolean }, command: Command) => {
      await withRegistry(
        command,
        async (registry) => {
          const info = await registry.info(opts.kind, ref);
          warnings.printAll(info.warnings);
          const versions = opts.versions ? await versionsOf(registry, info, (message) => warnings.print(message)) : undefined;
          out(json ? `${toJson({ ...infoJson(info), ...(versions ? { versions } : {}) })}\n` : infoText(info) + (versions ? versionsText(versions) : ''));
        },
        true,
      );
    });

  program
    .command('doctor')
    .description('check git and its engine, each registry (reachable, credentials accepted), proxy/CA, the cache and the npm registry; exit 1 on a failure')
    .action(async (_opts: unknown, command: Command) => {
      const options = command.optsWithGlobals<CommonOptions>();
      const loaded = await loadFoundConfig(io, options.config);
      // Loaded when run: doctor and pack use the git, npm and url sources, which other commands may never need.
      const { doctorCommand } = await import('./doctor.js');
      const result = await doctorCommand(io, loaded, () => openRegistry(io, options, warnings, progress?.listener), json);
      progress?.stop();
      out(result.text);
      if (!result.ok) exitCode = 1;
    });

  program
    .command('update [registry...]')
    .description('revalidate every configured registry (or the named ones) now, ignoring cacheDuration; exit 1 if any failed')
    .action(async (names: string[], _opts: unknown, command: Command) => {
      await withRegistry(command, async (registry) => {
        const result = await updateCommand(registry, names, json);
        out(result.text);
        if (result.errors) io.stderr.write(result.errors);
        if (!result.ok) exitCode = 1;
      });
    });

  program
    .command('fetch <ref>')
    .description("put an entry's files in the cache and print where they are")
    .addOption(kindOption())
    .addOption(frozenOption())
    .addOption(lockfileOption())
    .action(async (ref: string, opts: KindOptions, command: Command) => {
      await withRegistry(
        command,
        async (registry) => {
          const fetched = await registry.fetch(opts.kind, ref);
          warnings.printAll(fetched.warnings);
          out(json ? `${toJson(fetchJson(fetched))}\n` : fetchText(fetched));
        },
        true,
      );
    });

  program
    .command('load <ref>')
    .description('load an extension pack (runs its createExtensionPack) or a persona, and print what it provides')
    .addOption(
      new Option(
        '-k, --kind <kind>',
        'extension kind (tool, guardrail, workflow, …) or persona; without it, an extension loads as a tool and a persona id loads that persona',
      ),
    )
    .addOption(allowScriptsOption())
    .addOption(strictPeersOption())
    .addOption(frozenOption())
    .addOption(lockfileOption())
    .action(async (ref: string, opts: Partial<KindOptions>, command: Command) => {
      await withRegistry(
        command,
        async (registry) => {
          // Without --kind, a reference to a persona loads that persona (with --kind tool it is an error).
          const kindGiven = opts.kind !== undefined;
          const loaded = await registry.load(opts.kind ?? 'tool', ref).catch((error: unknown) => {
            if (!kindGiven && isRegistryError(error, 'E_NOT_FOUND') && error.details?.section === 'personas') return registry.load('persona', ref);
            throw error;
          });
          warnings.printAll(loaded.fetched.warnings);
          out(json ? `${toJson(loadJson(loaded))}\n` : loadText(loaded));
        },
        true,
      );
    });

  program
    .command('lock [refs...]')
    .description(
      "write agentos-registry.lock.json: each reference's registry, version, revision, content hash (h1) and dependency tree; refs default to the config's lock.refs",
    )
    .addOption(new Option('-k, --kind <kind>', 'kind of the named refs (default: tool, or persona for a persona id)'))
    .option('--update', 'resolve again (revalidating the indexes) the named refs, or every locked one')
    .addOption(allowScriptsOption())
    .addOption(strictPeersOption())
    .addOption(lockfileOption())
    .action(async (refs: string[], opts: { kind?: string; update?: boolean }, command: Command) => {
      const options = command.optsWithGlobals<CommonOptions>();
      verbose = options.verbose === true;
      out(
        await lockCommand(
          io,
          options,
          { refs, ...opts },
          (extra) => openRegistry(io, { ...options, ...(extra.refresh ? { refresh: true } : {}) }, warnings),
          json,
        ),
      );
    });

  program
    .command('pack <registry-dir>')
    .description('turn a registry folder into a static site for a `url` registry: one tarball per entry, integrity in registry.json')
    .requiredOption('-o, --out <site-dir>', 'folder to write the site into (created if needed; nothing in it is deleted)')
    .action(async (registryDir: string, opts: { out: string }) => {
      const { packCommand } = await import('./pack.js');
      out(await packCommand(io, registryDir, opts.out, json));
    });

  const listOf = (value: string, previous: string[] = []) => [
    ...previous,
    ...value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  ];
  program
    .command('mirror')
    .description(
      'copy the entries of every configured registry (all, or --refs) into one folder for an air-gapped host: a file registry per source registry, SHA256SUMS and mirror.json',
    )
    .requiredOption('--to <dir>', 'folder to write the mirror into (created if needed; re-running copies only entries whose h1 changed)')
    .addOption(new Option('--kinds <kinds>', 'comma-separated kinds: only entries that provide one of them (persona for personas)').argParser(listOf))
    .addOption(new Option('--refs <refs>', 'comma-separated references to mirror (id, id@range, registry:id@range)').argParser(listOf).conflicts('all'))
    .addOption(new Option('-k, --kind <kind>', 'kind of the --refs (default: tool)'))
    .option('--all', 'every entry of every configured registry (the default without --refs)')
    .action(async (opts: { to: string; kinds?: string[]; refs?: string[]; all?: boolean; kind?: string }, command: Command) => {
      await withRegistry(command, async (registry) => {
        const { mirrorCommand } = await import('./mirror.js');
        out(await mirrorCommand(io, registry, opts, json));
      });
    });

  program
    .command('verify-mirror <dir>')
    .description('check a mirror offline: every file against SHA256SUMS, every entry folder against its h1 in mirror.json; exit 1 naming each bad file')
    .action(async (dir: string) => {
      const { verifyMirrorCommand } = await import('./mirror.js');
      out(await verifyMirrorCommand(io, dir, json, () => (exitCode = 1)));
    });

  addInitCommand(program, io, out, json);
  addIndexCommand(program, io, out, json, () => (exitCode = 1));
  addSigningCommands(program, io, out, json);
  addValidateCommand(program, io, out, json, () => (exitCode = 1));

  const cache = program.command('cache').description('inspect and maintain the on-disk cache (folder and maxAge from the config, if any)');
  cache
    .command('ls')
    .description('cached registries: revision, age, entries, size')
    .action(async (_opts: unknown, command: Command) => {
      out(await cacheLs(await cacheSettingsFor(io, command.optsWithGlobals<CommonOptions>()), json));
    });
  cache
    .command('verify')
    .description('re-hash every cached index and entry; damaged items are removed (and fetched again when next used)')
    .action(async (_opts: unknown, command: Command) => {
      const result = await cacheVerify(await cacheSettingsFor(io, command.optsWithGlobals<CommonOptions>()), json);
      out(result.text);
      if (!result.ok) exitCode = 1;
    });
  cache
    .command('clean [registry]')
    .description('remove what is cached for one registry, or the whole cache (--all, or after asking on a terminal)')
    .option('-a, --all', 'remove the whole cache, without asking (needed when not on a terminal)')
    .option('-y, --yes', 'with no registry named, the same as --all')
    .action(async (registry: string | undefined, opts: { all?: boolean; yes?: boolean }, command: Command) => {
      if (registry !== undefined && opts.all) {
        throw new RegistryError('E_USAGE', `"cache clean ${registry} --all": name a registry or give --all, not both.`);
      }
      const settings = await cacheSettingsFor(io, command.optsWithGlobals<CommonOptions>());
      if (registry === undefined && !opts.all && !opts.yes) {
        if (!(target.tty?.stdin && target.tty?.stderr && target.ask)) {
          throw new RegistryError(
            'E_USAGE',
            `"cache clean" without a registry removes the whole cache in ${settings.directory}; not on a terminal, it does that only with --all. Run "agentos-registry cache clean --all", or name a registry.`,
          );
        }
        const answer = await target.ask(`Remove the whole cache in ${terminalSafe(settings.directory)}? [y/N] `);
        if (!/^\s*y(es)?\s*$/i.test(answer)) {
          io.stderr.write('nothing removed\n');
          exitCode = 1;
          return;
        }
      }
      out(await cacheClean(settings, registry, json));
    });
  cache
    .command('prune')
    .description('remove what no cached index references and is older than cacheSettings.maxAge')
    .action(async (_opts: unknown, command: Command) => {
      out(await cachePrune(await cacheSettingsFor(io, command.optsWithGlobals<CommonOptions>()), json));
    });

  addExamples(program);

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    progress?.stop();
    if (error instanceof CommanderError) return usageExit(error, json, io);
    const report = errorReport(error);
    if (json) {
      out(`${toJson({ error: report })}\n`);
    } else {
      label('error', 'error');
      io.stderr.write(` [${report.code}] ${oneLine(report.message)}\n`);
    }
    if (verbose && error instanceof Error && error.stack) io.stderr.write(`${redact(error.stack)}\n`);
    // A command-line mistake found after parsing (a bad option value, a missing --yes) is a usage error too.
    return report.code === 'E_USAGE' ? 2 : 1;
  }
}

/** One example per command, shown at the end of its --help. */
const EXAMPLES: Record<string, string> = {
  list: 'agentos-registry list --kind tool',
  search: 'agentos-registry search calculator --json',
  info: 'agentos-registry info internal:com.example.echo --versions',
  fetch: 'agentos-registry fetch com.example.echo --refresh',
  load: 'agentos-registry load com.example.echo --allow-scripts esbuild',
  lock: 'agentos-registry lock com.example.echo@^1 && agentos-registry load com.example.echo@^1 --frozen',
  pack: 'agentos-registry pack ./my-registry --out ./site',
  mirror: 'agentos-registry mirror --to /media/usb/agentos-mirror --kinds tool,persona',
  'verify-mirror': 'agentos-registry verify-mirror /media/usb/agentos-mirror',
  keygen: 'agentos-registry keygen --out registry.key',
  sign: 'agentos-registry sign ./my-registry --key registry.key --expires 30d',
  validate: 'agentos-registry validate ./my-registry --public-key owner.pub',
  init: 'agentos-registry init my-registry',
  index: 'agentos-registry index ./my-registry --check',
  update: 'agentos-registry update --json',
  doctor: 'agentos-registry doctor --json',
  'cache ls': 'agentos-registry cache ls --json',
  'cache verify': 'agentos-registry cache verify',
  'cache clean': 'agentos-registry cache clean internal\n  $ agentos-registry cache clean --all',
  'cache prune': 'agentos-registry cache prune',
};

const GLOBAL_NOTE = 'Global options: -c/--config <file>, --json, --offline, --prefer-offline, --refresh, --verbose, -q/--quiet (see agentos-registry --help).';

/** Adds an example and a one-line mention of the global options to the help of every subcommand. */
function addExamples(command: Command, prefix = ''): void {
  for (const sub of command.commands) {
    const name = `${prefix}${sub.name()}`;
    const example = EXAMPLES[name];
    sub.addHelpText('after', `\n${GLOBAL_NOTE}${example ? `\n\nExample:\n  $ ${example}` : ''}\n`);
    addExamples(sub, `${name} `);
  }
}

/** `io` whose streams erase the progress line before they write. */
function clearingFirst(io: CliIo, progress: ProgressLine): CliIo {
  const clearing = (stream: CliIo['stdout']) => ({
    write: (text: string) => {
      progress.clear();
      return stream.write(text);
    },
  });
  return { ...io, stdout: clearing(io.stdout), stderr: clearing(io.stderr) };
}

/** `io` with both streams passed through `terminalSafe`. */
function screenIo(io: CliIo): CliIo {
  return {
    ...io,
    stdout: { write: (text: string) => io.stdout.write(terminalSafe(text)) },
    stderr: { write: (text: string) => io.stderr.write(terminalSafe(text)) },
  };
}

function filterOf(opts: FilterOptions): FilterOptions {
  return {
    ...(opts.kind === undefined ? {} : { kind: opts.kind }),
    ...(opts.registry === undefined ? {} : { registry: opts.registry }),
  };
}

/** Help and version end well; a usage mistake (commander already printed it) is exit code 2, with JSON if asked. */
function usageExit(error: CommanderError, json: boolean, io: CliIo): number {
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
  if (error.exitCode === 0) return 0;
  if (json) {
    const message = error.message.replace(/^error:\s*/, '');
    io.stdout.write(`${toJson({ error: { code: 'E_USAGE', message, registry: null } })}\n`);
  }
  return 2;
}
