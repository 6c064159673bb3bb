/**
 * Builds tar archives byte by byte, including the hostile ones no well-behaved packer would write (absolute paths,
 * `..`, links out of the root, devices), to test that the extractor refuses them.
 */
import { gzipSync } from 'node:zlib';
import { Header, Pax } from 'tar';

export interface RawEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'BlockDevice' | 'FIFO';
  linkpath?: string;
  data?: string;
  mode?: number;
}

export function rawTar(entries: RawEntry[], options: { gzip?: boolean } = {}): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const data = Buffer.from(entry.data ?? '');
    const type = entry.type ?? 'File';
    const block = Buffer.alloc(512);
    const header = new Header({
      path: entry.path,
      type,
      mode: entry.mode ?? (type === 'Directory' ? 0o755 : 0o644),
      size: type === 'File' ? data.length : 0,
      mtime: new Date(0),
      uid: 0,
      gid: 0,
      ...(entry.linkpath === undefined ? {} : { linkpath: entry.linkpath }),
    });
    if (header.encode(block)) blocks.push(new Pax({ path: entry.path, ...(entry.linkpath ? { linkpath: entry.linkpath } : {}) }).encode());
    blocks.push(block);
    if (type === 'File' && data.length > 0) {
      blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  const tar = Buffer.concat(blocks);
  return options.gzip ? gzipSync(tar) : tar;
}
