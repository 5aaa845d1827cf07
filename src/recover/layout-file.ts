// A saved layout read back: the JSON that bt-mkrecover --json printed, or a
// recover.sh, whose layout is the JSON in its bt_layout here-document.
import { InputError } from '../errors.js'
import { LAYOUT_VERSION, type Layout } from './layout.js'
import { LAYOUT_BEGIN, LAYOUT_END } from './script.js'

const LISTS = ['disks', 'md', 'luks', 'lvm', 'filesystems', 'swaps', 'zfs', 'mounts', 'notes'] as const

export function parseLayout(text: string, name: string): Layout {
  let json = text
  if (text.startsWith('#!')) {
    const start = text.indexOf(`${LAYOUT_BEGIN}\n`)
    const end = text.indexOf(`\n${LAYOUT_END}\n`, start)
    if (start < 0 || end < 0) throw new InputError('BT_LAYOUT', `${JSON.stringify(name)} is a script without an embedded layout`, 'give the layout JSON that bt-mkrecover --json printed, or a recover.sh')
    json = text.slice(start + LAYOUT_BEGIN.length + 1, end)
  }
  let v: unknown
  try {
    v = JSON.parse(json)
  } catch (err) {
    throw new InputError('BT_LAYOUT', `${JSON.stringify(name)} is not a layout: ${(err as Error).message}`, 'give the layout JSON that bt-mkrecover --json printed, or a recover.sh')
  }
  const l = v as Partial<Layout>
  if (typeof l !== 'object' || l === null || l.version !== LAYOUT_VERSION) {
    throw new InputError('BT_LAYOUT', `${JSON.stringify(name)} is not a layout of version ${LAYOUT_VERSION} (version ${JSON.stringify(l?.version)})`,
      'a newer bt-mkrecover wrote it: render it with that version')
  }
  for (const k of LISTS) {
    if (!Array.isArray(l[k])) throw new InputError('BT_LAYOUT', `layout ${JSON.stringify(name)} has no list "${k}"`, 'the file was cut or edited: capture it again')
  }
  if (typeof l.boot !== 'object' || typeof l.backup !== 'object' || typeof l.host !== 'string') {
    throw new InputError('BT_LAYOUT', `layout ${JSON.stringify(name)} lacks "host", "boot" or "backup"`, 'the file was cut or edited: capture it again')
  }
  return l as Layout
}
