import { type ChildProcess, spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** How {@link runCgi} should run one CGI program for one request. */
export interface CgiOptions {
  command: string;
  env: NodeJS.ProcessEnv;
  req: IncomingMessage;
  res: ServerResponse;
  /** Told about the child so the server can kill it on shutdown. */
  onSpawn?(child: ChildProcess): void;
  /** Called with the running total after every body chunk written. */
  onBytes?(bytesSent: number): void;
  /**
   * Asked before each body chunk is written. Returning a number `n` writes only the first `n`
   * bytes of the chunk and then cuts the connection, which is how a server dying mid-transfer looks.
   */
  cutAt?(chunk: Buffer, bytesSentBefore: number): number | undefined;
}

/** What happened to one CGI response. */
export interface CgiOutcome {
  status: number;
  bytesSent: number;
  /** The connection closed before the response was complete (cut, killed, or client went away). */
  aborted: boolean;
}

/**
 * Runs a CGI/1.1 program: pipes the request body to its stdin, parses the header block it prints
 * (`Status:` gives the code), then streams the rest as the body with back-pressure.
 */
export function runCgi(options: CgiOptions): Promise<CgiOutcome> {
  const { req, res } = options;
  const child = spawn(options.command, [], { env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
  options.onSpawn?.(child);

  let status = 0;
  let bytesSent = 0;
  let headerBuffer: Buffer | undefined = Buffer.alloc(0);
  let cut = false;
  let stderr = '';

  // The request body can be larger than a pipe buffer; stream it, and ignore EPIPE when the program
  // answers (e.g. with an error) without reading all of it.
  req.pipe(child.stdin);
  child.stdin.on('error', () => {});
  child.stderr.on('data', (data: Buffer) => {
    stderr += data.toString('utf8');
  });

  const cutConnection = () => {
    cut = true;
    child.kill('SIGTERM');
    res.socket?.destroy();
  };

  const writeBody = (chunk: Buffer) => {
    if (cut || chunk.length === 0) return;
    const keep = options.cutAt?.(chunk, bytesSent);
    const part = keep === undefined ? chunk : chunk.subarray(0, Math.max(0, keep));
    bytesSent += part.length;
    options.onBytes?.(bytesSent);
    if (keep !== undefined) {
      // Wait until the kept bytes reach the socket, else destroy() could drop them unsent.
      const socket = res.socket;
      cut = true;
      child.stdout.pause();
      if (part.length > 0) res.write(part, () => cutConnection());
      else if (socket) socket.write('', () => cutConnection());
      else cutConnection();
      return;
    }
    if (!res.write(part)) {
      child.stdout.pause();
      res.once('drain', () => child.stdout.resume());
    }
  };

  child.stdout.on('data', (data: Buffer) => {
    if (headerBuffer === undefined) {
      writeBody(data);
      return;
    }
    headerBuffer = Buffer.concat([headerBuffer, data]);
    const end = findHeaderEnd(headerBuffer);
    if (!end) return;
    const head = headerBuffer.subarray(0, end.index).toString('latin1');
    const rest = headerBuffer.subarray(end.index + end.length);
    headerBuffer = undefined;
    const parsed = parseCgiHeaders(head);
    status = parsed.status;
    res.writeHead(parsed.status, parsed.headers);
    // Send headers now so a cut at 0 body bytes still looks like "server died after answering".
    res.flushHeaders();
    writeBody(rest);
  });

  return new Promise<CgiOutcome>((resolve) => {
    let exited = false;
    let stdoutEnded = false;
    let lostConnection = false;
    const finish = () => {
      if (!exited || !stdoutEnded || res.writableEnded || res.destroyed) return;
      // Node still reports a response on a destroyed socket as finished after end(), so check first.
      if (!res.socket || res.socket.destroyed) {
        lostConnection = true;
        return;
      }
      if (headerBuffer !== undefined) {
        // The program died or printed no header block: answer like a web server would.
        status = 502;
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`CGI program failed\n${stderr}`);
      } else {
        res.end();
      }
    };
    child.stdout.on('end', () => {
      stdoutEnded = true;
      finish();
    });
    child.on('exit', () => {
      exited = true;
      finish();
    });
    child.on('error', () => {
      exited = true;
      stdoutEnded = true;
      finish();
    });
    res.on('close', () => {
      const aborted = cut || lostConnection || !res.writableFinished;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      resolve({ status, bytesSent, aborted });
    });
  });
}

function findHeaderEnd(buffer: Buffer): { index: number; length: number } | undefined {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf === -1 && lf === -1) return undefined;
  if (lf === -1 || (crlf !== -1 && crlf < lf)) return { index: crlf, length: 4 };
  return { index: lf, length: 2 };
}

/** Parses a CGI header block; a `Status: 404 Not Found` line becomes the status code (default 200). */
export function parseCgiHeaders(head: string): { status: number; headers: Record<string, string | string[]> } {
  let status = 200;
  const headers: Record<string, string | string[]> = {};
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'status') {
      status = Number.parseInt(value, 10) || 500;
      continue;
    }
    const existing = headers[name];
    if (existing === undefined) headers[name] = value;
    else headers[name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return { status, headers };
}
