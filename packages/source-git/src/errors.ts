import { isUntrustedCertificateCode, RegistryError, untrustedCertificateAdvice } from '@agentos-registry/core';
import type { GitAuthScheme } from './auth.js';
import type { StepDeadline } from './deadline.js';
import type { GitTransport } from './location.js';
import { describeCommit, type ResolvedRef } from './refs.js';

/** What went wrong talking to a git server, as far as git's message or an HTTP status tells. */
export type GitFailure = 'auth' | 'redirect' | 'repo-not-found' | 'object-not-found' | 'unreachable' | 'unknown';

/** The registry a failure belongs to, for messages. */
export interface RemoteContext {
  registry: string;
  display: string;
  transport: GitTransport;
  hasToken: boolean;
  /** How the token is sent, when there is one: the advice on a refused token depends on it. */
  authScheme?: GitAuthScheme;
  engine: 'native' | 'isomorphic';
  /** policy.allowHosts is set: native git then follows no redirect (it cannot be asked where one leads first). */
  allowHosts?: boolean;
}

// Checked in order: an auth failure also says "unable to access", a cut transfer also says "fatal".
const PATTERNS: Array<[GitFailure, RegExp]> = [
  ['redirect', /returned error: 30[12378]\b|too many redirects|redirects? (?:is|are) not (?:allowed|followed)/i],
  [
    'auth',
    /could not read (?:username|password)|authentication failed|terminal prompts disabled|returned error: 40[13]\b|permission denied \((?:publickey|password|keyboard)|access denied|invalid credentials|HTTP Basic: Access denied/i,
  ],
  ['object-not-found', /not our ref|unadvertised object|couldn't find remote ref|no such remote ref/i],
  ['repo-not-found', /repository '.*' not found|returned error: 404|no such repository|does not appear to be a git repository|repository not found/i],
  [
    'unreachable',
    /could not resolve host|failed to connect|couldn't connect|connection (?:refused|reset|timed out)|timed out|unable to access|early eof|hung up unexpectedly|transfer closed|unexpected disconnect|rpc failed|bad pack header|remote end hung up|empty reply|recv failure|send failure|\bssl\b|\btls\b|network is unreachable|no route to host|operation too slow|curl \d+|index-pack failed|invalid index-pack output|protocol error|expected '[\w-]*', received|could not read from remote repository|unable to connect|connection closed|premature end/i,
  ],
];

/** Classifies the stderr of a failed git command. */
export function classifyGitMessage(message: string): GitFailure {
  for (const [failure, pattern] of PATTERNS) if (pattern.test(message)) return failure;
  return 'unknown';
}

/**
 * Where git quotes what the server sent when it could not parse it (`bad line length character: <4 bytes>`,
 * `invalid server response; got '<line>'`, `expected 'packfile', received '<line>'`), to the end of git's line: those bytes are the server's, possibly garbage
 * or terminal escapes, and are left out like the bytes of any answer that failed to parse.
 */
const QUOTED_SERVER_BYTES = /(bad line length character: |invalid server response; got |protocol error: unexpected |expected '[\w-]*', received ).*$/;

/** The lines of git's stderr worth showing: its `fatal:`/`error:` lines, else the last line. */
export function gitReason(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim().replace(QUOTED_SERVER_BYTES, '$1(not shown)'))
    .filter(Boolean);
  const important = lines.filter((line) => /^(?:fatal|error|remote error|ERROR):?/i.test(line));
  const chosen = important.length > 0 ? important.slice(-2) : lines.slice(-1);
  return chosen.join(' ').slice(0, 400);
}

/** How to pass a token, for the messages of auth failures. */
function tokenHint(context: RemoteContext): string {
  if (context.transport === 'ssh') {
    return 'SSH refused the key: load it into your SSH agent or name it in ~/.ssh/config (tokens are only sent over HTTPS).';
  }
  if (context.transport !== 'http') return 'This transport carries no credentials; use an https:// location with a `token`.';
  if (!context.hasToken) {
    const helper = context.engine === 'native' ? ', or configure a git credential helper for this host' : '';
    return `Set the registry's \`token\` (for example \`token: process.env.GIT_TOKEN\`, or "\${GIT_TOKEN}" in a JSON config)${helper}.`;
  }
  if (context.authScheme === 'bearer') {
    return "Check that the token is current and can read the repository. It is sent as `Authorization: Bearer` (`authScheme: 'bearer'`); if the server wants a user name and token instead, remove `authScheme` (and set `username` if it wants a particular one).";
  }
  return "Check that the token is current and can read the repository; set `username` if the server wants a particular user name (GitLab OAuth tokens: 'oauth2'), or `authScheme: 'bearer'` if it takes bearer tokens.";
}

/**
 * What to say about the server's refusal, in place of git's own words: over http git answers a 401 by trying to
 * prompt, and prompts are off, so its message ("could not read Username … terminal prompts disabled") talks about a
 * terminal the user never had. The HTTP status is what happened. SSH's reasons (`Permission denied (publickey)`) are
 * git's plain words and stay.
 */
function authReason(context: RemoteContext, reason: string): string {
  if (context.transport !== 'http') return reason;
  const status = /(?:returned error:|HTTP) (40[13])\b/i.exec(reason)?.[1];
  if (status) return `HTTP ${status}`;
  return /could not read (?:username|password)|terminal prompts disabled|authentication failed|access denied|invalid credentials/i.test(reason)
    ? 'HTTP 401'
    : reason;
}

/** curl's wording of a certificate it did not trust (native git); the isomorphic engine reports Node's codes. */
const CURL_UNTRUSTED_CERTIFICATE = /certificate (?:verification|problem)|certificate verify|SSL certificate/i;

/** What to do about a server certificate the engine did not trust, or undefined when `reason` is another failure. */
function certificateHint(context: RemoteContext, reason: string): string | undefined {
  if (context.engine === 'isomorphic') return isUntrustedCertificateCode(reason) ? untrustedCertificateAdvice(reason) : undefined;
  if (!CURL_UNTRUSTED_CERTIFICATE.test(reason)) return undefined;
  return 'The TLS certificate could not be verified. If the server uses a private or corporate CA, set http.sslCAInfo in your git config or GIT_SSL_CAINFO (the native engine does not apply the registry\'s "ca" option), or use `engine: \'isomorphic\'` with "ca"; also check the host name and the system clock.';
}

/**
 * The `RegistryError` for a failed exchange with the server. Never includes the token: messages are built from the
 * public location and git's stderr (which git redacts, and core's redactor scrubs again).
 */
export function remoteError(failure: GitFailure, context: RemoteContext, action: string, reason: string, cause?: unknown): RegistryError {
  const { registry, display } = context;
  const because = reason ? ` (${reason})` : '';
  const options = { registry, cause: cause ?? (reason ? new Error(reason) : undefined), details: { location: display } };
  switch (failure) {
    case 'auth': {
      const what = context.hasToken ? 'refused the configured token' : 'needs credentials';
      const shown = authReason(context, reason);
      return new RegistryError(
        'E_AUTH',
        `Registry '${registry}' (${display}) ${what} while ${action}${shown ? ` (${shown})` : ''}. ${tokenHint(context)}`,
        options,
      );
    }
    case 'redirect':
      if (context.allowHosts && !context.hasToken) {
        return new RegistryError(
          'E_POLICY',
          `Registry '${registry}' (${display}): the server redirected while ${action}${because}. With policy.allowHosts set, git follows no redirect, since it cannot check first where one leads: set \`location\` to the repository's final URL (on an allowed host).`,
          { ...options, details: { ...options.details, rule: 'allowHosts' } },
        );
      }
      return new RegistryError(
        'E_UNREACHABLE',
        `Registry '${registry}' (${display}): the server redirected while ${action}${because}. A token is never sent to another address, so redirects are not followed when one is set: set \`location\` to the repository's final URL.`,
        options,
      );
    case 'repo-not-found': {
      const hint =
        context.hasToken || context.transport !== 'http'
          ? ''
          : ' Some servers answer "not found" for a private repository when no token is given: set `token` if it is private.';
      return new RegistryError('E_NOT_FOUND', `Registry '${registry}': no git repository at ${display}${because}. Check \`location\`.${hint}`, options);
    }
    case 'object-not-found':
      return new RegistryError(
        'E_NOT_FOUND',
        `Registry '${registry}' (${display}): the server no longer has the commit being read${because}. The branch was probably force-pushed; fetch again to pick up its new revision.`,
        options,
      );
    case 'unreachable':
      return new RegistryError(
        'E_UNREACHABLE',
        `Registry '${registry}' could not be reached at ${display} while ${action}${because}. ${certificateHint(context, reason) ?? 'Check the network, any proxy, and `location`.'}`,
        options,
      );
    default:
      return new RegistryError('E_INTERNAL', `Registry '${registry}' (${display}): git failed while ${action}${because}.`, options);
  }
}

/**
 * `E_UNREACHABLE` for a step stopped by its deadline: a network fault like any other (the server is too slow or
 * trickles), so core serves a cached copy. Names the deadline and the option that raises it, as core's HTTP client
 * does for the other sources.
 */
export function deadlineError(context: RemoteContext, action: string, deadline: StepDeadline, cause?: unknown): RegistryError {
  const { registry, display } = context;
  const option = `timeouts.${deadline.purpose}`;
  const seconds = `${Math.round(deadline.ms / 100) / 10} s`;
  const unit = context.engine === 'native' ? 'git command' : 'request';
  return new RegistryError(
    'E_UNREACHABLE',
    `Registry '${registry}' could not be reached at ${display} in time: ${action} did not finish within ${seconds} (the ${option} deadline of each ${unit} that talks to the server), so it was stopped. The server is too slow or keeps the connection trickling. If the network is just slow, raise \`${option}\` (in ms) for this registry; copies already cached stay usable.`,
    { registry, cause, details: { location: display, timeout: true, deadline: option, ms: deadline.ms } },
  );
}

/** An entry folder that registry.json lists but the commit does not hold (or holds as a file): the same for both engines. */
export function entryNotFoundError(context: RemoteContext, commit: ResolvedRef, path: string, isFile: boolean): RegistryError {
  const { registry, display } = context;
  const at = describeCommit(commit);
  return new RegistryError(
    'E_NOT_FOUND',
    isFile
      ? `Entry '${path}' of registry '${registry}' is a file in ${display} (${at}), not a folder. An entry's \`path\` must name its folder.`
      : `Entry folder '${path}' of registry '${registry}' is not in ${display} at ${at}. registry.json lists it: commit the folder or fix the entry's \`path\`.`,
    { registry, details: { path, revision: commit.sha } },
  );
}
