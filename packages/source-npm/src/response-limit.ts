/**
 * A cap on each npm response body as it streams, which npm does not have: an endless packument or tarball was read
 * until memory or the disk ran out. The agent (npm-agent.ts) attaches this to every request, so pacote's, arborist's
 * and our own fetches are all bounded. pacote marks each request `pacote-req-type: packument` or `tarball`: a
 * packument falls under `limits.index`, everything else (tarballs) under `limits.entry`. Over the limit, the response is destroyed with an error `toNpmError` turns into `E_TOO_LARGE`.
 *
 * The count is on decoded bytes. A body sent with a Content-Encoding is decoded here, in the data path, and npm's
 * fetch stack is handed the decoded bytes with the encoding headers removed (it then has nothing to decode): a count
 * beside npm's own decoder would race it, and a small gzip bomb could be fully inflated before the count caught up.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate, createInflateRaw } from 'node:zlib';
import type { TransferPurpose } from '@agentos-registry/core';
import { NPM_PURPOSE_NAME, type NpmLimits } from './network-bounds.js';

/** The `code` of the error a response over its limit is destroyed with. */
export const RESPONSE_TOO_LARGE = 'E_NPM_RESPONSE_TOO_LARGE';

/** What was over which limit; own enumerable fields, so minipass-fetch copies them onto the error it reports. */
export class ResponseTooLargeError extends Error {
  readonly code = RESPONSE_TOO_LARGE;

  constructor(
    /** Which limit it was over: `index` (a packument) or `entry` (a tarball). */
    readonly purpose: TransferPurpose,
    readonly limit: number,
  ) {
    super(`The ${NPM_PURPOSE_NAME[purpose]} answer was larger than ${limit} bytes (limits.${purpose}).`);
  }
}

/** Which limit a request falls under: packuments (pacote's marker) `index`, everything else (tarballs) `entry`. */
function purposeOf(request: ClientRequest): TransferPurpose {
  const marker = request.getHeader('pacote-req-type');
  const value = Array.isArray(marker) ? marker[0] : marker;
  return value === 'packument' ? 'index' : 'entry';
}

/** Makes the decoder of a body from its first bytes. */
type DecoderFactory = (first: Buffer) => Transform;

/**
 * The decoder of every encoding npm's fetch (minipass-fetch) decodes, or `undefined` for a body it takes as is. The
 * list must be minipass-fetch's exactly: an encoding it decodes and this does not would reach npm still encoded and
 * be inflated there, uncounted (`x-deflate` was: a 64 KiB bomb became 64 MiB of packument or tarball). Like
 * minipass-fetch, `deflate` is zlib-wrapped or raw (old IIS and Apache servers), told apart by the first byte.
 */
function decoderFor(encoding: string): DecoderFactory | undefined {
  if (encoding === 'gzip' || encoding === 'x-gzip') return () => createGunzip();
  if (encoding === 'deflate' || encoding === 'x-deflate') return (first) => ((first[0]! & 0x0f) === 0x08 ? createInflate() : createInflateRaw());
  if (encoding === 'br') return () => createBrotliDecompress();
  return undefined;
}

/** Destroys the response to `request` as soon as its decoded body passes the limit of its purpose. */
export function limitResponseBody(request: ClientRequest, limits: Required<NpmLimits>): void {
  const purpose = purposeOf(request);
  const limit = limits[purpose];
  request.once('response', (response: IncomingMessage) => {
    let failed = false;
    const fail = () => {
      if (failed) return;
      failed = true;
      report(response, new ResponseTooLargeError(purpose, limit));
    };
    const hasBody = request.method !== 'HEAD' && response.statusCode !== 204 && response.statusCode !== 304;
    const encoding = String(response.headers['content-encoding'] ?? '')
      .trim()
      .toLowerCase();
    const decoder = hasBody ? decoderFor(encoding) : undefined;
    if (!decoder) {
      // A declared length over the limit fails before a byte is read.
      if (Number(response.headers['content-length']) > limit) return fail();
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > limit) fail();
      });
      return;
    }
    decodeInPlace(response, decoder, limit, fail);
  });
}

/**
 * Fails `response` for whoever reads it. Once all of it has arrived Node has already ended and destroyed it (the
 * decoder may still be working through the last bytes), and destroy() reports nothing any more: the error then goes
 * to the response's listeners (npm's) directly.
 */
function report(response: IncomingMessage, error: Error): void {
  if (!response.destroyed) response.destroy(error);
  else if (response.listenerCount('error') > 0) response.emit('error', error);
}

/**
 * Replaces the body npm's stack will read from `response` with its decoded bytes, counting them. Runs before npm's
 * own `response` listener (the agent registers it first), so npm sees a body without Content-Encoding. The decoder
 * is made when the first bytes arrive (raw or zlib deflate is told by them); a body with no bytes ends as is.
 */
function decodeInPlace(response: IncomingMessage, makeDecoder: DecoderFactory, limit: number, fail: () => void): void {
  // The length and encoding described the bytes on the wire, not the ones npm now gets (its cache checks the length).
  delete response.headers['content-encoding'];
  delete response.headers['content-length'];
  const emit = response.emit;
  let decoder: Transform | undefined;
  let decoded = 0;
  let over = false;
  const start = (first: Buffer): Transform => {
    const made = makeDecoder(first);
    made.on('data', (chunk: Buffer) => {
      if (over) return;
      decoded += chunk.length;
      if (decoded > limit) {
        over = true;
        made.destroy();
        fail();
        return;
      }
      emit.call(response, 'data', chunk);
    });
    made.on('end', () => {
      if (!over) emit.call(response, 'end');
    });
    // A body that does not decode is reported as the response's error, as npm's decoder would have.
    made.on('error', (error: Error) => {
      if (!over) report(response, error);
    });
    return made;
  };
  // Node delivers a response's data and end through `emit`; here they go to the decoder instead, and the decoder's
  // output comes out as the response's data and end.
  response.emit = function (this: IncomingMessage, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'data') {
      if (!over) {
        decoder ??= start(args[0] as Buffer);
        decoder.write(args[0] as Buffer);
      }
      return true;
    }
    if (event === 'end') {
      if (!over) {
        if (decoder) decoder.end();
        else emit.call(this, 'end');
      }
      return true;
    }
    return emit.call(this, event, ...args);
  } as IncomingMessage['emit'];
}
