// Where the wrapper keeps things when nobody said: /etc/backtory and
// /var/lib/backtory for root, the XDG directories for anyone else, as a user
// of any Unix daemon or desktop tool would look for them. BT_CONFIG_DIR and
// BT_DATA_DIR override both (and keep tests off the real system).

export interface Where {
  env: NodeJS.ProcessEnv
  uid: number
}

function home(env: NodeJS.ProcessEnv): string {
  return env.HOME && env.HOME !== '' ? env.HOME : '/root'
}

export function configDir({ env, uid }: Where): string {
  if (env.BT_CONFIG_DIR) return env.BT_CONFIG_DIR
  if (uid === 0) return '/etc/backtory'
  return `${env.XDG_CONFIG_HOME || `${home(env)}/.config`}/backtory`
}

export function dataDir({ env, uid }: Where): string {
  if (env.BT_DATA_DIR) return env.BT_DATA_DIR
  if (uid === 0) return '/var/lib/backtory'
  return `${env.XDG_DATA_HOME || `${home(env)}/.local/share`}/backtory`
}
