/**
 * Config discovery runs code (a `.mjs` config), so a config found in a folder above — not named — is used only when
 * this user (or root) owns it and no one else can change it, as git refuses repositories other users own.
 */
import { existsSync } from 'node:fs';
import { chmod, chown, lchown, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runBuilt, scratch, templateRegistry } from './helpers.js';

/** A registryConfig serving the template registry as `name`, caching into `cacheDir`. */
function templateConfig(name: string, cacheDir: string) {
  return {
    registries: { [name]: { type: 'file', location: templateRegistry } },
    defaultRegistries: { tool: name, persona: name },
    cacheSettings: { directory: cacheDir },
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function scene() {
  const { dir, cleanup } = await scratch();
  cleanups.push(cleanup);
  const nested = join(dir, 'work', 'project');
  await mkdir(nested, { recursive: true });
  const marker = join(dir, 'ran.txt');
  // A config that leaves a mark when it is imported: whether its code ran is seen on disk, not only in the output.
  const config = join(dir, 'agentos-registry.config.mjs');
  await writeFile(
    config,
    `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'ran');\nexport default ${JSON.stringify(templateConfig('above', join(dir, 'cache')))};\n`,
  );
  await chmod(config, 0o644);
  const env = { HOME: dir, XDG_CONFIG_HOME: join(dir, 'xdg') };
  return { dir, nested, config, marker, env };
}

describe('a config found above, not named', () => {
  it('is used when this user owns it and only this user can change it', async () => {
    const s = await scene();
    const result = await runBuilt(['list', '--json'], { cwd: s.nested, env: s.env });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).map((row: { registry: string }) => row.registry)).toContain('above');
  });

  it('writable by every user: refused with E_CONFIG, its code never runs; --config still uses it', async () => {
    const s = await scene();
    await chmod(s.config, 0o666);
    const result = await runBuilt(['list'], { cwd: s.nested, env: s.env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('E_CONFIG');
    expect(result.stderr).toContain('can be changed by every user');
    expect(result.stderr).toContain(`--config ${s.config}`);
    expect(existsSync(s.marker)).toBe(false);
    const named = await runBuilt(['list', '--config', s.config], { cwd: s.nested, env: s.env });
    expect(named.code, named.stderr).toBe(0);
    expect(existsSync(s.marker)).toBe(true);
  });

  it.skipIf(process.getuid?.() !== 0)('owned by another user: refused with E_CONFIG, its code never runs', async () => {
    const s = await scene();
    await chown(s.config, 4242, 4242);
    const result = await runBuilt(['list'], { cwd: s.nested, env: s.env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('owned by another user (uid 4242)');
    expect(existsSync(s.marker)).toBe(false);
  });

  it.skipIf(process.getuid?.() !== 0)('a symlink another user owns, to a file this user owns: refused, its code never runs', async () => {
    // The link is the other user's: it chose which file runs, and can point it elsewhere once the check is done.
    const s = await scene();
    const real = join(s.dir, 'work', 'mine.mjs');
    await rename(s.config, real);
    await symlink(real, s.config);
    await lchown(s.config, 4242, 4242);
    const result = await runBuilt(['list'], { cwd: s.nested, env: s.env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('E_CONFIG');
    expect(result.stderr).toContain('owned by another user (uid 4242)');
    expect(existsSync(s.marker)).toBe(false);
  });

  it('in a folder every user can change (not sticky): refused, its code never runs', async () => {
    // Whoever can write the folder can swap the checked file for their own between the check and the import.
    const s = await scene();
    await chmod(s.dir, 0o777);
    const result = await runBuilt(['list'], { cwd: s.nested, env: s.env });
    await chmod(s.dir, 0o700);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('E_CONFIG');
    expect(result.stderr).toContain('can be changed by every user');
    expect(existsSync(s.marker)).toBe(false);
  });

  it('in a sticky folder every user can write (as /tmp): used', async () => {
    const s = await scene();
    await chmod(s.dir, 0o1777);
    const result = await runBuilt(['list', '--json'], { cwd: s.nested, env: s.env });
    await chmod(s.dir, 0o700);
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(s.marker)).toBe(true);
  });

  it.skipIf(process.getuid?.() !== 0)('the agentosRegistry field of a package.json another user owns: refused like a config file', async () => {
    const s = await scene();
    const pkg = join(s.dir, 'work', 'package.json');
    await writeFile(pkg, JSON.stringify({ name: 'x', agentosRegistry: templateConfig('from-package', join(s.dir, 'cache')) }));
    await chown(pkg, 4242, 4242);
    await rm(s.config);
    const result = await runBuilt(['list'], { cwd: s.nested, env: s.env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('E_CONFIG');
    expect(result.stderr).toContain('owned by another user (uid 4242)');
  });
});
