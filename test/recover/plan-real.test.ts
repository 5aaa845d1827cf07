// --plan of a machine this kernel cannot build (md RAID1, LVM, GRUB for BIOS),
// from the real tools' outputs: the capture the recovery drill recorded in its
// qemu VM (test/fixtures/recover-qemu, scripts/recover-qemu.sh stage 2),
// replayed here with bt-mkrecover --raw-replay. Golden file:
// test/recover/golden/qemu-md-lvm.txt; BT_UPDATE_GOLDEN=1 rewrites it.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { BIN, ROOT } from '../helpers.js'

t.test('--plan of the drill machine\'s real capture is its golden file, under dash and busybox sh', async (t) => {
  const dir = t.testdir()
  cpSync(`${ROOT}test/fixtures/recover-qemu/raw`, `${dir}/raw`, { recursive: true })
  const mk = spawnSync(process.execPath, [`${BIN}/bt-mkrecover.js`, '--raw-replay', `${dir}/raw`, '--store', 'file:///store/drill', '--set', 'system',
    '--verify', `${ROOT}test/fixtures/keys/host.pub`, '-o', `${dir}/recover.sh`], { encoding: 'utf8' })
  t.equal(mk.status, 0, mk.stderr)
  const outs = [['dash'], ['busybox', 'sh']].map((shell) => {
    const r = spawnSync(shell[0]!, [...shell.slice(1), `${dir}/recover.sh`, '--plan', '--map', 'vda=/dev/vdd,vdb=/dev/vde'], { encoding: 'utf8' })
    t.equal(r.status, 0, `${shell.join(' ')}: ${r.stderr}`)
    return r.stdout
  })
  t.equal(outs[1], outs[0], 'dash and busybox sh print the same plan')
  const plan = outs[0]!
  // What the layers must be, whatever else the golden file says.
  t.match(plan, /mdadm --create \/dev\/md\/system --run --level=raid1 --metadata=1\.2 --uuid=\S+ --name=system --raid-devices=2 \/dev\/vdd2 \/dev\/vde2/)
  t.match(plan, /pvcreate --yes --uuid \S+ --restorefile \S+ \/dev\/md\/system/)
  t.match(plan, /vgcfgrestore -f \S+ vg0/)
  t.match(plan, /mkfs\.ext4 -F -q -U \S+ -L root .*\/dev\/vg0\/root/)
  t.match(plan, /mkfs\.xfs -f -m uuid=\S+ -L data .*\/dev\/vg0\/data/)
  t.match(plan, /grub-install .*\/dev\/vdd/)
  t.match(plan, /grub-install .*\/dev\/vde/)
  const golden = `${ROOT}test/recover/golden/qemu-md-lvm.txt`
  const text = `# --plan of recover.sh from the real capture of the recovery drill's machine (test/fixtures/recover-qemu/raw)\n${plan}`
  if (process.env.BT_UPDATE_GOLDEN === '1' || !existsSync(golden)) writeFileSync(golden, text)
  t.equal(text, readFileSync(golden, 'utf8'), '--plan is unchanged (BT_UPDATE_GOLDEN=1 rewrites it)')
})
