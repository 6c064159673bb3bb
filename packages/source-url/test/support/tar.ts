import { gzipSync } from 'node:zlib';

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
