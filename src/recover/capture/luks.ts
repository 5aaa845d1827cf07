// LUKS headers' parameters, never keys: `cryptsetup luksDump DEV` (format 1 or
// 2), and the mapping names from crypttab, which is what the restored system
// will open them as.

export interface LuksDump {
  version: 1 | 2
  uuid: string
  label: string | null
  cipher: string
  keyBits: number
  hash: string | null
  pbkdf: string | null
  sectorSize: number | null
}

function field(text: string, name: string): string | undefined {
  return new RegExp(`^\\s*${name}:\\s*(.*?)\\s*$`, 'm').exec(text)?.[1]
}

/** Parses `cryptsetup luksDump`. */
export function parseLuksDump(text: string): LuksDump {
  const version = Number(field(text, 'Version'))
  if (version === 1) {
    return {
      version: 1, uuid: field(text, 'UUID') ?? '', label: null,
      cipher: `${field(text, 'Cipher name')}-${field(text, 'Cipher mode')}`,
      keyBits: Number(field(text, 'MK bits') ?? 0), hash: field(text, 'Hash spec') ?? null, pbkdf: 'pbkdf2', sectorSize: null,
    }
  }
  if (version !== 2) throw new Error(`unknown LUKS header version ${JSON.stringify(field(text, 'Version'))}`)
  // The first data segment and the first key slot describe how it was made.
  const segment = text.slice(text.indexOf('Data segments:'))
  const slot = text.slice(text.indexOf('Keyslots:'))
  const label = field(text, 'Label')
  return {
    version: 2, uuid: field(text, 'UUID') ?? '',
    label: !label || label === '(no label)' ? null : label,
    cipher: field(segment, 'cipher') ?? '',
    keyBits: Number(/^\s*Key:\s*(\d+) bits/m.exec(slot)?.[1] ?? 0),
    hash: field(slot, 'AF hash') ?? field(slot, 'Hash') ?? null,
    pbkdf: field(slot, 'PBKDF') ?? null,
    sectorSize: Number(/^\s*sector:\s*(\d+)/m.exec(segment)?.[1] ?? NaN) || null,
  }
}

export interface CrypttabEntry { name: string; device: string }

/** Parses /etc/crypttab: NAME DEVICE [KEYFILE [OPTIONS]], comments and blank lines skipped. */
export function parseCrypttab(text: string): CrypttabEntry[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(/\s+/)).filter((w) => w.length >= 2).map(([name, device]) => ({ name: name!, device: device! }))
}

/** The crypttab name for a LUKS device, matched by UUID=, PARTUUID= or its path. */
export function crypttabName(entries: CrypttabEntry[], uuid: string, paths: string[], partuuid: string | null): string | null {
  const hit = entries.find((e) => e.device === `UUID=${uuid}` || e.device === `/dev/disk/by-uuid/${uuid}` || paths.includes(e.device) ||
    (partuuid !== null && e.device.toLowerCase() === `partuuid=${partuuid.toLowerCase()}`))
  return hit?.name ?? null
}
