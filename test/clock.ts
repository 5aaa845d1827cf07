// For tests only, loaded with node --import: moves this process's clock to
// BT_TEST_CLOCK (an ISO time), from where it runs on at the real pace. A month
// of nightly backups is made in minutes this way: bt-scan stamps each stream
// with the time it reads here. Nothing in src/ loads it.
const target = Date.parse(process.env.BT_TEST_CLOCK ?? '')
if (!Number.isNaN(target)) {
  const Real = Date
  const shift = target - Real.now()
  class Shifted extends Real {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(Real.now() + shift)
      else super(...(args as [string]))
    }

    static override now(): number {
      return Real.now() + shift
    }
  }
  globalThis.Date = Shifted as DateConstructor
}
export {}
