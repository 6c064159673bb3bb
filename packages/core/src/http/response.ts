/**
 * The response object of core's HTTP client. It owns one undici body and hands it out once; `bytes()` and `consume()`
 * can ask the client for the same response again when the connection drops mid-body, which a bare stream cannot.
 * Every way of reading counts the decoded bytes against the request's limit as they arrive, so neither an endless
 * body nor a gzip bomb is ever held in memory beyond it.
 */
import { Readable, type Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { RegistryError } from '../errors.js';
import type { HttpResponse } from './types.js';

/** One answer from the server, before it is wrapped for the caller. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Readable & { dump?(options?: { limit: number }): Promise<void> };
  url: URL;
  redirected: boolean;
}

/** What a response needs from the client that made it. */
export interface ResponseHooks {
  /** Told the decoded bytes read so far as they arrive, and once more (`done`) when the body has been read whole. */
  progress?(bytes: number, done: boolean): void;
  /** Turns any error met while reading the body into the RegistryError to throw. */
  mapError(error: unknown): Error;
  /** The same request again after a pause, when the error allows a retry and budget is left; else `undefined`. */
  retryAfterBodyError(error: unknown): Promise<RawResponse | undefined>;
  /** Most decoded bytes the body may have. */
  maxBytes: number;
  /** The error for a body past `maxBytes`. */
  tooLarge(): Error;
  /** The request is over (body read, failed or dropped): stops its deadline. */
  settle(): void;
}

/** Drops a body without reading it into memory; undici closes the socket if it is large. */
export async function discardBody(body: RawResponse['body']): Promise<void> {
  try {
    if (typeof body.dump === 'function') await body.dump({ limit: 128 * 1024 });
    else body.destroy();
  } catch {
    // The body is unwanted; failing to drain it only costs the connection.
  }
}

function decoderFor(encoding: string): Transform | undefined {
  switch (encoding) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      // identity, absent, or stacked encodings: pass the bytes through untouched.
      return undefined;
  }
}

/**
 * A body that is not what its `Content-Encoding` says (not gzip, not zlib deflate, not brotli): the server's, or a
 * proxy's, fault. The client reports it as `E_UNREACHABLE`, like any other broken answer, so a cached copy is served.
 */
export class ContentDecodingError extends Error {
  constructor(
    readonly encoding: string,
    cause: unknown,
  ) {
    super(`The body is not valid ${encoding}.`, { cause });
    this.name = 'ContentDecodingError';
  }
}

/**
 * The body's chunks, decoded per `Content-Encoding` and counted against `maxBytes`; errors are the raw ones, for the
 * caller to classify, except the limit's own and a `ContentDecodingError` for a body that does not decode. The
 * socket's body is destroyed however the loop ends.
 */
async function* decodedChunks(raw: RawResponse, hooks: Pick<ResponseHooks, 'maxBytes' | 'tooLarge' | 'progress'>): AsyncGenerator<Buffer> {
  const encoding = raw.headers['content-encoding']?.trim().toLowerCase() ?? '';
  const decoder = decoderFor(encoding);
  // What failed the socket itself (a reset, an abort): that is the network's fault, not the encoding's.
  let socketError: unknown;
  let wireBytes = 0;
  try {
    // A plain body that announces more than the limit is refused before a byte is read.
    const declared = Number(raw.headers['content-length']);
    if (!decoder && Number.isFinite(declared) && declared > hooks.maxBytes) throw hooks.tooLarge();
    let source: AsyncIterable<unknown> = raw.body;
    if (decoder) {
      // A failure of the socket must fail the decoder too, or the loop below would wait forever.
      raw.body.on('error', (error) => {
        socketError = error;
        decoder.destroy(error);
      });
      raw.body.on('data', (chunk: Buffer) => {
        wireBytes += chunk.length;
      });
      raw.body.pipe(decoder);
      source = decoder;
    }
    // Counted after decoding: 1.5 MB of gzip can inflate to 1.5 GiB. The decoder only inflates as fast as this loop
    // takes its chunks, so stopping here stops the inflating too.
    let total = 0;
    try {
      for await (const chunk of source) {
        total += (chunk as Buffer).length;
        if (total > hooks.maxBytes) throw hooks.tooLarge();
        hooks.progress?.(total, false);
        yield chunk as Buffer;
      }
      hooks.progress?.(total, true);
    } catch (error) {
      if (!decoder || error === socketError || error instanceof RegistryError) throw error;
      // An empty body with an encoding (a 204, a HEAD answered as such) has nothing to decode.
      if (wireBytes === 0 && total === 0) return;
      throw new ContentDecodingError(encoding, error);
    }
  } finally {
    decoder?.destroy();
    dropBody(raw);
  }
}

/** Destroys the socket's body unless it is done. undici then emits an abort error that nobody needs to hear. */
function dropBody(raw: RawResponse): void {
  if (raw.body.destroyed) return;
  raw.body.on('error', () => {});
  raw.body.destroy();
}

/** The `HttpResponse` implementation. */
export class ClientResponse implements HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly url: string;
  readonly redirected: boolean;
  #raw: RawResponse;
  #hooks: ResponseHooks;
  #used = false;

  constructor(raw: RawResponse, hooks: ResponseHooks) {
    this.status = raw.status;
    this.headers = raw.headers;
    this.url = raw.url.href;
    this.redirected = raw.redirected;
    this.#raw = raw;
    this.#hooks = hooks;
  }

  #claim(): void {
    // Same rule as fetch: one body, read once. A second reader would see half a stream.
    if (this.#used) throw new TypeError('The response body has already been read or discarded.');
    this.#used = true;
  }

  get body(): Readable {
    this.#claim();
    const stream = this.#stream(this.#raw, () => {});
    stream.once('close', () => this.#hooks.settle());
    return stream;
  }

  /** The body of `raw` as a byte stream whose errors are RegistryErrors; `onFailure` gets the raw error first. */
  #stream(raw: RawResponse, onFailure: (error: unknown) => void): Readable {
    const hooks = this.#hooks;
    async function* mapped(): AsyncGenerator<Buffer> {
      try {
        yield* decodedChunks(raw, hooks);
      } catch (error) {
        onFailure(error);
        throw hooks.mapError(error);
      }
    }
    // objectMode off: consumers (tar, pipes) expect a byte stream. Destroying it ends the generator, which
    // destroys the socket's body in turn; the socket's body is also destroyed at once, since a generator waiting for
    // a chunk from a stalled server would only end when that chunk came.
    const stream = Readable.from(mapped(), { objectMode: false });
    stream.once('close', () => dropBody(raw));
    return stream;
  }

  /** `raw` again from the client, or `undefined` when the body error `error` is final. */
  async #again(error: unknown): Promise<RawResponse | undefined> {
    const again = await this.#hooks.retryAfterBodyError(error);
    if (again && again.status !== this.status) {
      // The server now answers something else; the caller's view of status and headers would be wrong.
      await discardBody(again.body);
      return undefined;
    }
    return again;
  }

  async bytes(): Promise<Uint8Array> {
    this.#claim();
    let raw = this.#raw;
    try {
      for (;;) {
        const chunks: Buffer[] = [];
        try {
          for await (const chunk of decodedChunks(raw, this.#hooks)) chunks.push(chunk);
          return Buffer.concat(chunks);
        } catch (error) {
          const again = await this.#again(error);
          if (!again) throw this.#hooks.mapError(error);
          raw = again;
        }
      }
    } finally {
      this.#hooks.settle();
    }
  }

  async consume<T>(read: (body: Readable) => Promise<T>): Promise<T> {
    this.#claim();
    let raw = this.#raw;
    try {
      for (;;) {
        // Only a failure of the body itself may be retried; `read` failing for its own reasons (an unsafe archive)
        // is passed on, and the body it left unread is dropped.
        let bodyFailure: unknown;
        const stream = this.#stream(raw, (error) => {
          bodyFailure ??= error;
        });
        try {
          return await read(stream);
        } catch (error) {
          if (bodyFailure === undefined) throw error;
          const again = await this.#again(bodyFailure);
          if (!again) throw error;
          raw = again;
        } finally {
          stream.destroy();
        }
      }
    } finally {
      this.#hooks.settle();
    }
  }

  async text(): Promise<string> {
    // TextDecoder drops a leading BOM, as fetch's text() does.
    return new TextDecoder().decode(await this.bytes());
  }

  async json<T = unknown>(): Promise<T> {
    return JSON.parse(await this.text()) as T;
  }

  async discard(): Promise<void> {
    if (this.#used) return;
    this.#used = true;
    await discardBody(this.#raw.body);
    this.#hooks.settle();
  }
}
