// The block layer, bottom up: partition tables, md arrays, LUKS, LVM.
import { type Layout } from './layout.js'
import { type Step } from './plan.js'
import { q, shVar, words } from './sh-quote.js'

export function diskSteps(layout: Layout, notes: string[]): Step[] {
  const steps: Step[] = []
  for (const d of layout.disks) {
    if (!d.sfdiskDump) continue
    steps.push({
      title: `partition table of ${d.name} (${d.table ?? 'unknown'}, ${d.partitions.length} partition${d.partitions.length === 1 ? '' : 's'})`,
      done: [`bt_table_done ${q(d.name)}`],
      run: [`bt_sfdisk ${q(d.name)}`],
    })
  }
  for (const m of layout.md) {
    steps.push({
      title: `md array ${m.name} (${m.level}, ${m.members.length} members)`,
      done: [words('bt_md_done', m.name, m.uuid)],
      run: [words('bt_md', m.name, m.uuid, m.level, m.metadata, m.chunkKiB === null ? '-' : `${m.chunkKiB}K`, m.layout ?? '-', ...m.members.map((d) => `@${d}`))],
    })
  }
  for (const l of layout.luks) {
    const args = ['--batch-mode', '--verify-passphrase', `--type=luks${l.version}`, `--uuid=${l.uuid}`, `--cipher=${l.cipher}`, `--key-size=${l.keyBits}`]
    if (l.hash) args.push(`--hash=${l.hash}`)
    if (l.pbkdf && l.version === 2) args.push(`--pbkdf=${l.pbkdf}`)
    if (l.sectorSize && l.version === 2) args.push(`--sector-size=${l.sectorSize}`)
    if (l.label && l.version === 2) args.push(`--label=${l.label}`)
    steps.push({
      title: `LUKS on ${l.device} (asks for the new passphrase)`,
      done: [words('bt_luks_done', l.device, l.uuid)],
      run: [words('bt_run_tty', 'cryptsetup', 'luksFormat', ...args, `@${l.device}`)],
    })
    steps.push({
      title: `open LUKS ${l.device} as ${l.mapping} (asks for the passphrase)`,
      done: [words('bt_luks_open_done', l.mapping)],
      run: [words('bt_run_tty', 'cryptsetup', 'open', `@${l.device}`, l.mapping)],
    })
  }
  for (const vg of layout.lvm) steps.push(...vgSteps(vg, notes))
  return steps
}

function vgSteps(vg: Layout['lvm'][number], notes: string[]): Step[] {
  const lvs = vg.lvs.map((lv) => `${vg.name}/${lv.name}`)
  const make: string[] = []
  if (vg.vgcfgbackup) {
    const f = `"$BT_WORK/vg-${shVar(vg.name)}"`
    make.push(`bt_vgcfg_${shVar(vg.name)} > "$(bt_workfile vg-${shVar(vg.name)})"`)
    for (const pv of vg.pvs) make.push(`${words('bt_run', 'pvcreate', '--yes', '--uuid', pv.uuid, '--restorefile')} ${f} ${q(`@${pv.device}`)}`)
    make.push(`${words('bt_run', 'vgcfgrestore', '-f')} ${f} ${q(vg.name)}`)
  } else {
    notes.push(`volume group ${vg.name}: no vgcfgbackup was captured; it is made anew (new UUIDs)`)
    for (const pv of vg.pvs) make.push(words('bt_run', 'pvcreate', '--yes', `@${pv.device}`))
    make.push(words('bt_run', 'vgcreate', '-s', `${vg.extentBytes}b`, vg.name, ...vg.pvs.map((p) => `@${p.device}`)))
    for (const lv of vg.lvs) make.push(words('bt_run', 'lvcreate', '-y', '-L', `${lv.sizeBytes}b`, '-n', lv.name, vg.name))
  }
  return [
    {
      title: `LVM volume group ${vg.name} (${vg.pvs.length} PV, ${vg.lvs.length} LV)`,
      done: vg.vgcfgbackup ? [words('bt_lvm_done', vg.name, vg.uuid)] : [words('bt_lvs_done', ...lvs)],
      run: make,
    },
    { title: `activate volume group ${vg.name}`, done: [words('bt_lvs_done', ...lvs)], run: [words('bt_run', 'vgchange', '-ay', vg.name)] },
  ]
}
