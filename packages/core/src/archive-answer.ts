/**
 * Extracting an archive a source handed over (`snapshot`, or `materialize` answering with an archive): core's guarded
 * extractor, fed as the bytes arrive, with the archive's integrity checked in passing. Nothing the bytes produced is
 * accepted unless they match; a response of core's HTTP client that loses its connection mid-body starts over.
 */
import { mkdir, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ArchiveAnswer } from './contract.js';
import { RegistryError } from './errors.js';
import { type ExtractResult, extractTarball } from './archive.js';
import { statusError } from './http/status-errors.js';
import type { HttpResponse } from './http/types.js';
import { checkedStream, type ParsedIntegrity, parseIntegrity } from './integrity.js';
import { abortError } from './source-errors.js';

export interface ArchiveContext {
  registry: string;
  signal: AbortSignal;
}

function isResponse(archive: ArchiveAnswer['archive']): archive is HttpResponse {
  return typeof (archive as HttpResponse).consume === 'function';
}

/** The body, noting when it has been read to its end: only then is the hash of a download known. */
async function* readToEnd(source: AsyncIterable<Uint8Array>, whole: { read: boolean }): AsyncGenerator<Uint8Array> {
  yield* source;
  whole.read = true;
}

/**
 * Why `answer` is not an archive answer, or `undefined` when it is one. A source is third-party code: what it returns
 * is checked before anything is read from it, so a wrong shape is the source's fault (`E_SOURCE_CONTRACT`), not a
 * damaged download, and a `strip` of -1 or "1" never quietly extracts another layout than the one meant.
 */
function answerProblem(answer: unknown): string | undefined {
  if (typeof answer !== 'object' || answer === null) return `answered with ${answer === null ? 'null' : typeof answer}, not an archive answer`;
  const { archive, strip, subdir, integrity, label } = answer as Record<string, unknown>;
  const isBytes = archive instanceof Uint8Array;
  const isResponseLike = typeof archive === 'object' && archive !== null && typeof (archive as { consume?: unknown }).consume === 'function';
  const isStream =
    typeof archive === 'object' && archive !== null && typeof (archive as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
  if (!isBytes && !isResponseLike && !isStream) {
    return `answered with an archive that is ${archive === undefined ? 'missing' : archive === null ? 'null' : `a ${typeof archive === 'object' ? 'plain object' : typeof archive}`}, not bytes, a byte stream or a response of core's HTTP client`;
  }
  if (strip !== undefined && !(typeof strip === 'number' && Number.isInteger(strip) && strip >= 0))
    return `answered with strip ${JSON.stringify(strip)}, not a whole number of path segments`;
  if (subdir !== undefined && typeof subdir !== 'string') return `answered with a subdir that is a ${typeof subdir}, not a folder path`;
  if (integrity !== undefined && typeof integrity !== 'string') return `answered with an integrity that is a ${typeof integrity}, not an SRI string`;
  if (label !== undefined && typeof label !== 'string') return `answered with a label that is a ${typeof label}, not text`;
  return undefined;
}

/**
 * Checks that what a source returned from `what` (its `snapshot()`, its `materialize()`) is an archive answer;
 * `E_SOURCE_CONTRACT` saying what is wrong and what the answer must be otherwise.
 */
export function assertArchiveAnswer(answer: unknown, what: string, registry: string): asserts answer is ArchiveAnswer {
  const problem = answerProblem(answer);
  if (problem === undefined) return;
  throw new RegistryError(
    'E_SOURCE_CONTRACT',
    `The source of registry "${registry}" ${problem} from ${what}. An archive answer is { archive: tar or tar.gz bytes, a byte stream or a response of core's HTTP client, strip?: whole number, subdir?: string, integrity?: SRI string, label?: string }; fix or update the source adapter.`,
    { registry },
  );
}

/**
 * Lets go of an archive that will not be read: a response is discarded (its connection freed), a stream destroyed or
 * ended. Core was handed it, so core closes it, whatever it refuses it for.
 */
export async function releaseArchive(archive: unknown): Promise<void> {
  try {
    if (typeof archive !== 'object' || archive === null || archive instanceof Uint8Array) return;
    if (isResponse(archive as ArchiveAnswer['archive'])) await (archive as HttpResponse).discard();
    else if (archive instanceof Readable) archive.destroy();
    else if (typeof (archive as AsyncIterator<unknown>).return === 'function') await (archive as AsyncIterator<unknown>).return!();
  } catch {
    // Letting go is best effort: the refusal is what the caller hears.
  }
}

/** Extracts `answer` into `destination` (an empty folder core owns); `E_INTEGRITY` when the bytes are not the promised ones. */
export async function extractArchiveAnswer(answer: ArchiveAnswer, destination: string, ctx: ArchiveContext): Promise<ExtractResult> {
  try {
    assertArchiveAnswer(answer, 'snapshot() or materialize()', ctx.registry);
  } catch (error) {
    await releaseArchive((answer as Partial<ArchiveAnswer> | null | undefined)?.archive);
    throw error;
  }
  const label = answer.label ?? 'An archive';
  let expected: ParsedIntegrity | undefined;
  if (answer.integrity !== undefined) {
    expected = parseIntegrity(answer.integrity);
    if (!expected) {
      // Refused before a byte is read: the body is let go, not left holding its connection (or file) open.
      await releaseArchive(answer.archive);
      throw new RegistryError(
        'E_INTEGRITY',
        `${label} of registry "${ctx.registry}" comes with an integrity that is not an SRI sha512, sha384 or sha256 hash; an unchecked archive is never used.`,
        {
          registry: ctx.registry,
        },
      );
    }
  }
  const options = {
    ...(answer.strip ? { strip: answer.strip } : {}),
    ...(answer.subdir ? { subdir: answer.subdir } : {}),
    signal: ctx.signal,
    registry: ctx.registry,
  };

  const extract = async (body: AsyncIterable<Uint8Array>): Promise<{ result?: ExtractResult; matched: boolean; cause?: unknown }> => {
    if (!expected) return { result: await extractTarball(body instanceof Readable ? body : Readable.from(body), destination, options), matched: true };
    const whole = { read: false };
    const check = checkedStream(readToEnd(body, whole), expected);
    try {
      const result = await extractTarball(check.stream, destination, options);
      return { result, matched: check.matches() };
    } catch (error) {
      // The extractor stops at the first bad byte, so the hash is known only when the bytes ran out first (a
      // download cut short, damage near its end). Then bytes that are not the promised ones explain the failure
      // better than "damaged archive" does.
      if (whole.read && !check.matches() && !ctx.signal.aborted) return { matched: false, cause: error };
      throw error;
    }
  };

  const { archive } = answer;
  if (isResponse(archive) && archive.status !== 200) {
    // A source that hands over an error page has not checked the status: that page is no archive.
    await archive.discard().catch(() => {});
    throw statusError(archive, { registry: ctx.registry, what: label.charAt(0).toLowerCase() + label.slice(1), authenticated: false });
  }
  let verdict: Awaited<ReturnType<typeof extract>>;
  if (isResponse(archive)) {
    let tries = 0;
    verdict = await archive.consume(async (body) => {
      // Each try starts afresh: what an earlier, broken body wrote goes.
      if (tries++ > 0) {
        await rm(destination, { recursive: true, force: true });
        await mkdir(destination, { recursive: true });
      }
      return extract(body);
    });
  } else {
    verdict = await extract(archive instanceof Uint8Array ? Readable.from([archive], { objectMode: false }) : archive);
  }
  if (ctx.signal.aborted) throw abortError(ctx.signal, `Extracting ${label.toLowerCase()}`, ctx.registry);
  if (!verdict.matched || !verdict.result) {
    throw new RegistryError(
      'E_INTEGRITY',
      `${label} of registry "${ctx.registry}" does not match the ${expected!.algorithm} integrity it was published with; nothing of it was kept. It was changed or damaged on the server or on the way: re-publish it (or refresh the index with --refresh if it was re-published since), and check any proxy or CDN in between.`,
      { registry: ctx.registry, ...(verdict.cause === undefined ? {} : { cause: verdict.cause }) },
    );
  }
  return verdict.result;
}
