/** Tasks a test ends by hand: how many run now and at most, for checks of a concurrency cap. */

/** A task that stays running until its `finish` is called, counting how many run at once. */
export function gate() {
  let running = 0
  let most = 0
  const open: (() => void)[] = []
  const task = () =>
    new Promise<void>((resolve) => {
      running++
      most = Math.max(most, running)
      open.push(() => {
        running--
        resolve()
      })
    })
  return {
    task,
    finish: (n = open.length) => open.splice(0, n).forEach((end) => end()),
    get running() {
      return running
    },
    get most() {
      return most
    },
  }
}
