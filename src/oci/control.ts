// The daemon's control socket: one JSON request per connection, one JSON reply. A unix
// socket path is limited to 107 bytes and state dirs can be longer (Docker's ids are 64
// characters under a long --root), so both ends reach it relative to the container's
// directory: the daemon runs there, and the client changes into it when the absolute path
// would not fit.
import { createConnection, type Server, createServer, type Socket } from 'node:net';
import { join } from 'node:path';

export const SOCKET = 'ctl.sock';

export type Request = { op: 'start' } | { op: 'wait' } | { op: 'ping' };

export type Reply = { ok: true; exitCode?: number } | { ok: false; error: string };

/** The path to connect to for DIR's socket, changing directory if it is too long. */
function socketPath(dir: string): string {
  const abs = join(dir, SOCKET);
  if (Buffer.byteLength(abs) < 100) return abs;
  process.chdir(dir);
  return SOCKET;
}

/** Sends REQ to the daemon of the container in DIR and returns its reply. */
export function request(dir: string, req: Request): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(socketPath(dir));
    let data = '';
    sock.setEncoding('utf8');
    // write, not end: a half-closed socket would make the server drop a reply that
    // takes time (wait).
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (d: string) => (data += d));
    sock.on('error', (err) => reject(new Error(`daemon socket: ${err.message}`)));
    sock.on('close', () => {
      try {
        resolve(JSON.parse(data) as Reply);
      } catch {
        reject(new Error('daemon socket: closed without a reply (the sandbox is gone)'));
      }
    });
  });
}

/** Serves requests on SOCKET in the current directory (the daemon's: its container dir). */
export function serve(handle: (req: Request) => Promise<Reply>): Promise<Server> {
  const server = createServer((sock: Socket) => {
    let data = '';
    sock.setEncoding('utf8');
    sock.on('error', () => {});
    sock.on('data', (d: string) => {
      data += d;
      const nl = data.indexOf('\n');
      if (nl < 0) return;
      let req: Request;
      try {
        req = JSON.parse(data.slice(0, nl)) as Request;
      } catch {
        sock.end(`${JSON.stringify({ ok: false, error: 'bad request' })}\n`);
        return;
      }
      handle(req).then(
        (reply) => sock.end(`${JSON.stringify(reply)}\n`),
        (err: unknown) => sock.end(`${JSON.stringify({ ok: false, error: err instanceof Error ? err.message : String(err) })}\n`),
      );
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(SOCKET, () => resolve(server));
  });
}
