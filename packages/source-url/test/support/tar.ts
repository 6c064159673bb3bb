import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';

/** One member of a hand-made archive: a file with `body`, or a symlink to `linkTo`. */
export type TarMember = { path: string; body: string } | { path: string; linkTo: string };

/**
 * A gzip'd ustar archive written by hand, for archives no well-behaved tool would make (a symlink out of the entry).
 * Only the fields an extractor reads are filled in.
 */
export function tarWith(members: TarMember[]): Buffer {
  const blocks: Buffer[] = [];
  for (const member of members) {
    const body = 'body' in member ? Buffer.from(member.body) : Buffer.alloc(0);
    const header = Buffer.alloc(512);
    header.write(member.path, 0, 100, 'utf8');
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
    header.write('14614634720\0', 136);
    header.write('        ', 148);
    header.write('body' in member ? '0' : '2', 156);
    if ('linkTo' in member) header.write(member.linkTo, 157, 100, 'utf8');
    header.write('ustar\0', 257);
    header.write('00', 263);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/** The 512-byte ustar header of a regular file of `size` bytes. */
function fileHeader(path: string, size: number): Buffer {
  const header = Buffer.alloc(512);
  header.write(path, 0, 100, 'utf8');
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  header.write('14614634720\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return header;
}

/**
 * Writes a tar bomb to `file`: `count` files of `size` zero bytes each, gzip'd at level 9 as one stream (so it
 * inflates about 1000-fold), streamed to disk so that making it costs no memory. Returns its SRI sha512, so that a
 * hostile site can publish it with an integrity that matches.
 */
export async function writeZeroBomb(file: string, count: number, size: number): Promise<string> {
  const hash = createHash('sha512');
  const zero = Buffer.alloc(1024 * 1024);
  async function* tar(): AsyncGenerator<Buffer> {
    for (let i = 0; i < count; i++) {
      yield fileHeader(`package/zeros-${i}.bin`, size);
      for (let left = size; left > 0; left -= zero.length) yield left >= zero.length ? zero : zero.subarray(0, left);
      yield Buffer.alloc((512 - (size % 512)) % 512);
    }
    yield Buffer.alloc(1024);
  }
  const gzip = createGzip({ level: 9 });
  gzip.on('data', (chunk: Buffer) => hash.update(chunk));
  await pipeline(Readable.from(tar()), gzip, createWriteStream(file));
  return `sha512-${hash.digest('base64')}`;
}
