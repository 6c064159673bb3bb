/**
 * The response object of core's HTTP client. It owns one undici body and hands it out once; `bytes()` can ask the
 * client for the same response again when the connection drops mid-body, which a stream handed to the caller cannot.
 */
import { Readable, type Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
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
  /** Turns any error met while reading the body into the RegistryError to throw. */
  mapError(error: unknown): Error;
  /** The same request again after a pause, when the error allows a retry and budget is left; else `undefined`. */
  retryAfterBodyError(error: unknown): Promise<RawResponse | undefined>;
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

function decoderFor(encoding: string | undefined): Transform | undefined {
  switch (encoding?.trim().toLowerCase()) {
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

/** The body's chunks, decoded per `Content-Encoding`; errors are the raw ones, for the caller to classify. */
async function* decodedChunks(raw: RawResponse): AsyncGenerator<Buffer> {
  const decoder = decoderFor(raw.headers['content-encoding']);
  if (!decoder) {
    for await (const chunk of raw.body) yield chunk as Buffer;
    return;
  }
  // A failure of the socket must fail the decoder too, or the loop below would wait forever.
  raw.body.on('error', (error) => decoder.destroy(error));
  raw.body.pipe(decoder);
  try {
    for await (const chunk of decoder) yield chunk as Buffer;
  } finally {
    if (!raw.body.destroyed) raw.body.destroy();
  }
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
    const raw = this.#raw;
    const hooks = this.#hooks;
    async function* mapped(): AsyncGenerator<Buffer> {
      try {
        yield* decodedChunks(raw);
      } catch (error) {
        throw hooks.mapError(error);
      }
    }
    // objectMode off: consumers (tar, pipes) expect a byte stream. Destroying it ends the generator, which
    // destroys the socket's body in turn.
    return Readable.from(mapped(), { objectMode: false });
  }

  async bytes(): Promise<Uint8Array> {
    this.#claim();
    let raw = this.#raw;
    for (;;) {
      const chunks: Buffer[] = [];
      try {
        for await (const chunk of decodedChunks(raw)) chunks.push(chunk);
        return Buffer.concat(chunks);
      } catch (error) {
        const again = await this.#hooks.retryAfterBodyError(error);
        if (!again) throw this.#hooks.mapError(error);
        if (again.status !== this.status) {
          // The server now answers something else; the caller's view of status and headers would be wrong.
          await discardBody(again.body);
          throw this.#hooks.mapError(error);
        }
        raw = again;
      }
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
  }
}
