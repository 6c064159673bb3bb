/** Where the CLI reads its environment from and writes to; tests inject their own. */
import { createInterface } from 'node:readline/promises';

export interface CliWriter {
  write(text: string): unknown;
}

export interface CliIo {
  stdout: CliWriter;
  stderr: CliWriter;
  /** Folder the default config file is looked up in and relative `--config` paths are resolved against. */
  cwd: string;
  /** Environment handed to `createRegistry` for `${NAME}` expansion. */
  env: Record<string, string | undefined>;
  /** Which streams are terminals (colour, confirmation prompts); absent means none is. */
  tty?: { stdin?: boolean; stdout?: boolean; stderr?: boolean };
  /** Asks a question on the terminal and resolves to the answer; only called when stdin and stderr are terminals. */
  ask?: (question: string) => Promise<string>;
}

/** The real process: stdout, stderr, working directory and environment. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    env: process.env,
    tty: { stdin: process.stdin.isTTY === true, stdout: process.stdout.isTTY === true, stderr: process.stderr.isTTY === true },
    ask: async (question) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    },
  };
}

/** Colour on a stream: only on a terminal, and never when NO_COLOR is set to anything but the empty string. */
export function colourOn(io: CliIo, stream: 'stdout' | 'stderr'): boolean {
  return io.tty?.[stream] === true && !io.env.NO_COLOR;
}

const STYLE = { error: ['\u001b[31m', '\u001b[39m'], warning: ['\u001b[33m', '\u001b[39m'], debug: ['\u001b[2m', '\u001b[22m'] } as const;

/** `label` (a fixed word of the CLI's own, never registry text) in the colour of its kind when colour is on. */
export function paint(on: boolean, kind: keyof typeof STYLE, label: string): string {
  return on ? `${STYLE[kind][0]}${label}${STYLE[kind][1]}` : label;
}
