// A timer as a promise. Not node:timers/promises: loading it, with the abort machinery it
// brings, costs each short-lived OCI command (Docker runs several per container) ~2 ms.
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
