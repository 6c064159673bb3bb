/**
 * Progress on stderr while the CLI waits on the network: one line, rewritten in place, that shows a spinner while a
 * registry's revision is checked and, while files download, the bytes so far (of the announced size) and how many
 * entries have arrived. Only on a terminal (the CLI does not create it otherwise), and cleared before anything else is
 * written, so it never mixes with a warning or an error. With colour on, the spinner is coloured and the line erased
 * with the terminal's erase-line; with NO_COLOR no escape sequence at all is written: the line is overwritten with
 * spaces.
 */
import type { RegistryProgress } from '@agentos-registry/core';
import type { CliWriter } from './io.js';
import { terminalSafe } from './terminal-text.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/** Carriage return and erase-line: the line is drawn again from its start. */
const ERASE = '\r\u001b[2K';
const CYAN = ['\u001b[36m', '\u001b[39m'] as const;

/** `1.5 MiB`, `12.0 KiB`, `512 B`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

interface Download {
  registry: string;
  file: string;
  bytes: number;
  total?: number;
  /** Native git's own progress: objects, not bytes. */
  objects?: { stage: string; done: number; total: number };
}

export class ProgressLine {
  readonly #out: CliWriter;
  readonly #colour: boolean;
  readonly #checking = new Map<string, number>();
  #download: Download | undefined;
  /** Bytes of downloads that finished, and how many of them were entries (not index or revision requests). */
  #doneBytes = 0;
  #entries = 0;
  #frame = 0;
  #shown = false;
  /** Characters of the line on screen, for erasing it without escapes. */
  #width = 0;
  #lastDraw = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(out: CliWriter, colour: boolean) {
    this.#out = out;
    this.#colour = colour;
  }

  /** The registry's `onProgress`. */
  readonly listener = (event: RegistryProgress): void => {
    if (event.type === 'revision') {
      const count = this.#checking.get(event.registry) ?? 0;
      if (event.done) {
        if (count <= 1) this.#checking.delete(event.registry);
        else this.#checking.set(event.registry, count - 1);
      } else {
        this.#checking.set(event.registry, count + 1);
      }
      this.#animate();
      this.#draw(true);
      return;
    }
    if (event.objects) {
      // git's own progress (native engine): its stage and object counts, until the command ends.
      const stage = this.#download?.objects ? this.#download.file : undefined;
      this.#download = { registry: event.registry, file: event.objects.stage, bytes: 0, objects: event.objects };
      this.#draw(stage !== event.objects.stage || !this.#shown);
      return;
    }
    const file = event.url.slice(event.url.lastIndexOf('/') + 1) || event.url;
    // A download that starts is drawn at once, then at most every 50 ms as its bytes arrive.
    const started = !event.done && (this.#download?.file !== file || this.#download.registry !== event.registry);
    if (event.done) {
      this.#doneBytes += event.bytes;
      if (event.purpose === 'entry') this.#entries += 1;
      this.#download = undefined;
    } else {
      this.#download = { registry: event.registry, file, bytes: event.bytes, ...(event.total === undefined ? {} : { total: event.total }) };
    }
    this.#draw(event.done || started || !this.#shown);
  };

  /** Erases the line (before other stderr output, and at the end); it is drawn again on the next event. */
  clear(): void {
    if (!this.#shown) return;
    this.#out.write(this.#erase());
    this.#shown = false;
    this.#width = 0;
  }

  /** Stops the spinner and erases the line. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.clear();
  }

  /** What takes the cursor to the start of an empty line. */
  #erase(): string {
    if (this.#colour) return ERASE;
    return this.#width > 0 ? `\r${' '.repeat(this.#width)}\r` : '\r';
  }

  /** The spinner turns while a check is pending, also when no bytes arrive. */
  #animate(): void {
    if (this.#checking.size > 0 && !this.#timer) {
      this.#timer = setInterval(() => this.#draw(true), 100);
      this.#timer.unref();
    } else if (this.#checking.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #text(): string | undefined {
    const parts: string[] = [];
    if (this.#checking.size > 0) parts.push(`checking ${[...this.#checking.keys()].join(', ')} for updates`);
    const d = this.#download;
    if (d?.objects) {
      // git names the server's own stages "remote: Counting objects…"; its stage then reads "remote:".
      const stage = d.objects.stage === 'remote:' ? 'server preparing' : d.objects.stage.replace(/:$/, '');
      parts.push(`${d.registry}: git ${stage} objects ${d.objects.done}/${d.objects.total}`);
    } else if (d) parts.push(`${d.registry}: downloading ${d.file} ${formatBytes(d.bytes)}${d.total === undefined ? '' : ` of ${formatBytes(d.total)}`}`);
    if (this.#doneBytes > 0 || this.#entries > 0) {
      const entries = this.#entries > 0 ? `${this.#entries} ${this.#entries === 1 ? 'entry' : 'entries'}, ` : '';
      parts.push(`${entries}${formatBytes(this.#doneBytes + (d?.bytes ?? 0))} downloaded`);
    }
    return parts.length > 0 ? parts.join(' · ') : undefined;
  }

  /** Draws the line; at most every 50 ms unless `now` (a state change), so a fast download does not flood the terminal. */
  #draw(now: boolean): void {
    const time = Date.now();
    if (!now && time - this.#lastDraw < 50) return;
    this.#lastDraw = time;
    const text = this.#text();
    if (text === undefined) {
      this.clear();
      return;
    }
    this.#frame = (this.#frame + 1) % FRAMES.length;
    const spinner = this.#colour ? `${CYAN[0]}${FRAMES[this.#frame]}${CYAN[1]}` : FRAMES[this.#frame];
    const line = `${FRAMES[this.#frame]} ${terminalSafe(text)}`;
    this.#out.write(`${this.#erase()}${this.#colour ? `${spinner}${line.slice(FRAMES[this.#frame]!.length)}` : line}`);
    this.#shown = true;
    this.#width = line.length;
  }
}
