// Collects a stream into a Buffer up to a cap. Past the cap it keeps reading and drops
// what it reads, so a runaway writer neither eats our memory nor blocks on a full pipe
// (it runs on until it ends or a time limit ends it); the result says it was truncated.
import type { Readable } from 'node:stream';

export interface Captured {
  data: Buffer;
  truncated: boolean;
  /** Bytes the stream carried, kept or not. */
  total: number;
}

export function capture(stream: Readable, cap: number): Promise<Captured> {
  const chunks: Buffer[] = [];
  let kept = 0, total = 0;
  return new Promise((resolve) => {
    stream.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (kept >= cap) return;
      const part = chunk.length > cap - kept ? chunk.subarray(0, cap - kept) : chunk;
      chunks.push(part);
      kept += part.length;
    });
    const done = (): void => resolve({ data: Buffer.concat(chunks, kept), truncated: total > kept, total });
    stream.once('end', done);
    stream.once('close', done);
    // A read error ends the capture with what was read; the run's result still comes.
    stream.once('error', done);
  });
}
