// The --log file in runc's shapes: logrus text (`time="…" level=error msg="…"`) or JSON
// lines (`{"level":"error","msg":"…","time":"…"}`). containerd's shim shows the user the
// last error line of that file, so errors must be there exactly in this form.
import { appendFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';

export type LogFormat = 'text' | 'json';
export type Level = 'debug' | 'info' | 'warning' | 'error';

export interface LogOptions {
  file?: string;
  format: LogFormat;
  debug: boolean;
}

export class Log {
  /** Pending writes in thread-pool mode, in order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly opts: LogOptions,
    /** Where lines go without --log (the CLI: stderr; the daemon: nowhere). */
    private readonly fallback?: (line: string) => void,
    /** Write through libuv's thread pool, in order: for the daemon, whose main thread
     * wears the tasks' identity while it serves them (src/sandbox/creds.ts). */
    private readonly threadPool = false,
  ) {}

  /** Settles once every line written so far is in the file. */
  flushed(): Promise<void> {
    return this.queue;
  }

  line(level: Level, msg: string): string {
    const time = new Date().toISOString();
    if (this.opts.format === 'json') return `${JSON.stringify({ level, msg, time })}\n`;
    return `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
  }

  write(level: Level, msg: string): void {
    if (level === 'debug' && !this.opts.debug) return;
    const line = this.line(level, msg);
    if (this.opts.file && this.threadPool) {
      const file = this.opts.file;
      this.queue = this.queue.then(() => appendFile(file, line)).catch(() => {});
      return;
    }
    if (this.opts.file) {
      try {
        appendFileSync(this.opts.file, line);
        return;
      } catch {
        // An unwritable log must not hide the message: fall through.
      }
    }
    this.fallback?.(line);
  }

  debug(msg: string): void {
    this.write('debug', msg);
  }
  info(msg: string): void {
    this.write('info', msg);
  }
  warn(msg: string): void {
    this.write('warning', msg);
  }
  error(msg: string): void {
    this.write('error', msg);
  }
}
