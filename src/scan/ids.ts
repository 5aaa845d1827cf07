// User and group names for ids, and ids for names, from the local account
// databases. Node has no getpwuid(); parsing the files once is what tar does in effect.
import { readFileSync } from 'node:fs'

export interface IdMaps {
  userName(uid: number): string
  groupName(gid: number): string
  uidOf(name: string): number | undefined
  gidOf(name: string): number | undefined
}

function parse(file: string): Array<[string, number]> {
  let text = ''
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    // No account database (a minimal container): names are simply unknown, ids still travel.
    return []
  }
  const out: Array<[string, number]> = []
  for (const line of text.split('\n')) {
    const f = line.split(':')
    if (f.length >= 3 && f[0] && /^[0-9]+$/.test(f[2]!)) out.push([f[0], Number(f[2])])
  }
  return out
}

export function loadIdMaps(etc = '/etc'): IdMaps {
  const users = parse(`${etc}/passwd`)
  const groups = parse(`${etc}/group`)
  const byUid = new Map<number, string>()
  const byGid = new Map<number, string>()
  for (const [n, id] of users) if (!byUid.has(id)) byUid.set(id, n)
  for (const [n, id] of groups) if (!byGid.has(id)) byGid.set(id, n)
  const uidByName = new Map(users)
  const gidByName = new Map(groups)
  return {
    userName: (uid) => byUid.get(uid) ?? '',
    groupName: (gid) => byGid.get(gid) ?? '',
    uidOf: (name) => uidByName.get(name),
    gidOf: (name) => gidByName.get(name),
  }
}
