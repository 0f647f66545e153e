// Linear-time checks measure the CPU time of a synchronous call: other processes on a busy machine
// stretch wall time, not the CPU time this process spends.

/** What `fn` returned and the milliseconds of CPU time it took. */
export function cpuTimed<T>(fn: () => T): { ms: number; value: T } {
  const start = process.cpuUsage();
  const value = fn();
  const used = process.cpuUsage(start);
  return { ms: (used.user + used.system) / 1000, value };
}
