// Ends a process group: what the wrapper's hooks need to stop a hook and
// everything it started (src/cli owns process.*).
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  process.kill(-pid, signal)
}
