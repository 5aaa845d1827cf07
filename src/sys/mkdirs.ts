// mkdir -p without Node's `{ recursive: true }`, which loops forever where
// mkdir answers ENOENT although the parent exists (/proc, /sys): a backup tool
// pointed at such a path must fail, not spin at full CPU deaf to SIGTERM.
import { mkdirSync, statSync } from 'node:fs'
import { dirname } from 'node:path'

/** Makes `path` and any missing parents (each with `mode`); an existing directory is fine. Throws the errno error of the step that failed. */
export function mkdirs(path: string, mode = 0o777): void {
  const missing: string[] = []
  for (let p = path; ; p = dirname(p)) {
    try {
      if (statSync(p).isDirectory()) break
      // A file where a directory belongs.
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${p}'`), { code: 'ENOTDIR', errno: -20, syscall: 'mkdir', path: p })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(p) === p) throw err
      missing.push(p)
    }
  }
  // Each step is tried once, parents first: no step can send the walk back up.
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p, { mode })
    } catch (err) {
      // Made by someone else meanwhile: fine when it is a directory.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(p).isDirectory()) throw err
    }
  }
}
